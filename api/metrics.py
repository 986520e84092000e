"""Prometheus metrics on a registry owned by the app (no process globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Hotline's metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.active_calls = Gauge("hotline_active_calls", "Calls in progress", registry=r)
        self.calls_ended = Counter("hotline_calls_ended", "Calls ended, by end reason", ["reason"], registry=r)
        self.calls_rejected = Counter("hotline_calls_rejected", "INVITEs rejected, by SIP code", ["code"], registry=r)
        self.asr_rtf = Gauge("hotline_asr_real_time_factor", "Decoder CPU seconds per audio second", registry=r)
        self.asr_audio = Counter("hotline_asr_audio_seconds", "Audio seconds sent to recognition", registry=r)
        self.dropped_frames = Counter("hotline_media_dropped_frames", "Frames lost or late (concealed)", registry=r)
        self.bad_packets = Counter("hotline_media_bad_packets", "Malformed RTP datagrams", registry=r)
        self.final_latency = Histogram(
            "hotline_asr_final_latency_seconds", "Utterance end (VAD) to final transcript",
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5), registry=r,
        )

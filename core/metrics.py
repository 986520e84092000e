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
        self.time_to_agent = Histogram(
            "hotline_time_to_agent_seconds", "Caller answered to agent connected",
            buckets=(0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120), registry=r,
        )
        self.queue_wait = Histogram(
            "hotline_queue_wait_seconds", "Time callers waited in queue (answered or abandoned)",
            ["outcome"], buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300), registry=r,
        )
        self.queued = Counter("hotline_queued_calls", "Callers queued, by queue", ["queue"], registry=r)
        self.abandoned = Counter("hotline_abandoned_calls", "Callers who hung up while queued", ["queue"], registry=r)
        self.agent_answered = Counter("hotline_agent_answered_calls", "Callers connected to an agent", ["queue"],
                                      registry=r)
        self.answered_in_sl = Counter("hotline_answered_within_sl_calls",
                                      "Callers connected to an agent within the service-level time", ["queue"],
                                      registry=r)
        self.abandon_rate = Gauge("hotline_abandon_rate", "Abandoned / (abandoned + answered by an agent)",
                                  registry=r)
        self.service_level = Gauge("hotline_service_level", "Share of queued callers answered within "
                                   "routing.service_level_s (abandons count as misses)", registry=r)
        self.agent_offers = Counter("hotline_agent_offers", "Offers to agents, by outcome", ["outcome"], registry=r)
        self.hint_latency = Histogram(
            "hotline_hint_latency_seconds", "Final transcript published to its hints published",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5), registry=r,
        )
        self.parked_writes = Gauge("hotline_store_parked_writes", "Writes waiting for an unreachable database",
                                   registry=r)
        self._sl = [0, 0, 0]  # answered within SL, answered, abandoned

    def routed(self, queue: str, waited_s: float, sl_s: float, answered: bool) -> None:
        """Count one caller leaving the queue; keeps abandon rate and service level current."""
        if answered:
            self.agent_answered.labels(queue).inc()
            self.queue_wait.labels("answered").observe(waited_s)
            self._sl[1] += 1
            if waited_s <= sl_s:
                self.answered_in_sl.labels(queue).inc()
                self._sl[0] += 1
        else:
            self.abandoned.labels(queue).inc()
            self.queue_wait.labels("abandoned").observe(waited_s)
            self._sl[2] += 1
        total = self._sl[1] + self._sl[2]
        self.abandon_rate.set(self._sl[2] / total)
        self.service_level.set(self._sl[0] / total)

"""Benchmark speech: Korean espeak-ng phrases with known boundaries, as 8 kHz WAV and raw G.711 u-law."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from tests.support.audio import espeak

RATE = 8000
PHRASES = (
    ("안녕하세요", 150),
    ("하나 둘 셋 넷 다섯", 150),
    ("주문을 확인하고 싶습니다", 150),
    ("감사합니다", 150),
    ("내일 다시 전화하겠습니다", 150),
)


@dataclass(frozen=True)
class Speech:
    """A speech file and where each phrase is in it (seconds from the first sample)."""

    path: Path
    spans: list[tuple[float, float]]
    duration_s: float

    def to_json(self) -> dict[str, object]:
        """JSON-ready."""
        return {"path": str(self.path), "duration_s": round(self.duration_s, 3),
                "phrases": [p for p, _ in PHRASES][: len(self.spans)],
                "spans_s": [[round(a, 3), round(b, 3)] for a, b in self.spans]}


def _trim(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Cut espeak's own leading and trailing silence, so a phrase's end is its last audible sample."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    return x[loud[0] : loud[-1] + 1] if loud.size else x


def make(path: Path, phrases: tuple[tuple[str, int], ...] = PHRASES, gap_s: float = 1.2,
         lead_s: float = 1.0, tail_s: float = 1.0) -> Speech:
    """Phrases with ``gap_s`` silence between them; 16-bit mono WAV at 8 kHz."""
    parts = [np.zeros(int(lead_s * RATE), np.float32)]
    spans: list[tuple[float, float]] = []
    pos = parts[0].size
    for i, (text, speed) in enumerate(phrases):
        data, rate = espeak(text, speed)
        voice = _trim(soxr.resample(data, rate, RATE).astype(np.float32))
        spans.append((pos / RATE, (pos + voice.size) / RATE))
        parts.append(voice)
        pos += voice.size
        gap = np.zeros(int((gap_s if i < len(phrases) - 1 else tail_s) * RATE), np.float32)
        parts.append(gap)
        pos += gap.size
    pcm = np.clip(np.round(np.concatenate(parts) * 32767), -32768, 32767).astype(np.int16)
    pcm = pcm[: pcm.size - pcm.size % 160]  # whole 20 ms packets
    sf.write(str(path), pcm, RATE, subtype="PCM_16")
    return Speech(path, spans, pcm.size / RATE)


def ulaw_file(wav: Path, out: Path) -> Path:
    """Raw G.711 u-law bytes of an 8 kHz WAV (what sipp's rtp_stream sends, 160 bytes per packet)."""
    from media import g711

    pcm, rate = sf.read(str(wav), dtype="int16")
    assert rate == RATE
    out.write_bytes(bytes(g711.ulaw_encode(pcm)))
    return out

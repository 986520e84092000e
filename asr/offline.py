"""Offline decoding of a whole recording with the same VAD gating as live calls.

Used as the reference in tests and benchmarks: a live call must produce
exactly the finals this produces from the same audio.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import vosk

from media.frame import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame, Pcm
from media.vad import UtteranceEnd, VadGate

vosk.SetLogLevel(-1)


@dataclass(frozen=True, slots=True)
class OfflineResult:
    """Finals of an offline decode and what it cost."""

    texts: list[str]
    cpu_s: float
    audio_s: float


def decode_offline(model: vosk.Model, pcm: Pcm, gate: VadGate | None, leg: str = "caller") -> OfflineResult:
    """Decode 16 kHz PCM; with ``gate``, only gated speech is decoded and each utterance end finalizes."""
    rec = vosk.KaldiRecognizer(model, SAMPLE_RATE)
    rec.SetWords(True)
    texts: list[str] = []
    fed = 0.0
    t0 = time.process_time()

    def final(raw: str) -> None:
        text = json.loads(raw).get("text", "").strip()
        if text:
            texts.append(text)

    n = pcm.size // FRAME_SAMPLES
    for i in range(n):
        frame = AudioFrame(leg, round(i * 0.02, 2), pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
        outs = gate.push(frame) if gate is not None else [frame]
        for out in outs:
            if isinstance(out, UtteranceEnd):
                final(rec.FinalResult())
                continue
            fed += 0.02
            if rec.AcceptWaveform(out.pcm_bytes()):
                final(rec.Result())
    final(rec.FinalResult())
    return OfflineResult(texts, time.process_time() - t0, fed)


def load_model(path: Path) -> vosk.Model:
    """Load a Vosk model directory."""
    return vosk.Model(str(path))

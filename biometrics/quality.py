"""Quality gates for voiceprint audio: enough speech, not clipped, not too quiet, not too noisy.

SNR estimator (documented because it decides rejections): from the VAD split in ``speech.py``,
speech power ``S`` is the mean energy of voiced 30 ms frames and noise power ``N`` is the *median*
energy of unvoiced frames when there are at least ``MIN_NOISE_FRAMES`` of them; otherwise (audio
trimmed to speech, or noise loud enough for the VAD to call everything speech) ``N`` is the 10th
percentile of all frame energies, a minimum-statistics style floor. Then
``SNR = 10 log10(max(S - N, 1) / max(N, 1))`` (energies in int16 units squared, so 1 is one LSB,
about -90 dBFS: digital silence gives a large finite SNR rather than infinity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from biometrics.settings import BiometricsSettings
from biometrics.speech import SpeechSplit
from media.frame import Pcm

MIN_NOISE_FRAMES = 10
FULL_SCALE = 32768.0

SHORT = "insufficient_speech"
CLIPPED = "clipping"
QUIET = "too_quiet"
NOISY = "too_noisy"
# What the operator does next, per refusal (part of every reason string).
ADVICE = {
    SHORT: "add more recordings of the customer speaking (call recordings count too)",
    CLIPPED: "lower the recording gain or move the microphone away, then record again",
    QUIET: "raise the recording gain or record closer to the microphone",
    NOISY: "record again in a quieter place (no TV, traffic or other voices), or use another call's audio",
}


@dataclass(frozen=True)
class QualityReport:
    """Outcome of the gates. ``reasons`` holds ``"<code>: <detail>"`` strings, one per failed gate."""

    ok: bool
    reasons: list[str] = field(default_factory=list)
    net_speech_s: float = 0.0
    clipping_ratio: float = 0.0
    snr_db: float = 0.0
    level_dbfs: float = -math.inf

    def codes(self) -> list[str]:
        """Just the reason codes (``insufficient_speech``, ``clipping``, ``too_quiet``, ``too_noisy``)."""
        return [r.split(":", 1)[0] for r in self.reasons]


def clipping_ratio(pcm: Pcm, clip_level: int = 32000) -> float:
    """Share of samples whose magnitude is at least ``clip_level``."""
    if pcm.size == 0:
        return 0.0
    return float(np.count_nonzero(np.abs(pcm.astype(np.int32)) >= clip_level)) / pcm.size


def level_dbfs(pcm: Pcm) -> float:
    """RMS level relative to full scale (-inf for empty or silent input)."""
    if pcm.size == 0:
        return -math.inf
    rms = math.sqrt(float(np.mean(np.square(pcm, dtype=np.float64))))
    return 20 * math.log10(rms / FULL_SCALE) if rms > 0 else -math.inf


def snr_db(split: SpeechSplit) -> float:
    """Speech-to-noise estimate in dB (see the module docstring); 0 when there is no voiced frame."""
    if split.voiced_energy.size == 0:
        return 0.0
    speech = float(np.mean(split.voiced_energy))
    if split.unvoiced_energy.size >= MIN_NOISE_FRAMES:
        noise = float(np.median(split.unvoiced_energy))
    else:
        noise = float(np.percentile(np.concatenate([split.voiced_energy, split.unvoiced_energy]), 10))
    return 10 * math.log10(max(speech - noise, 1.0) / max(noise, 1.0))


def assess(split: SpeechSplit, settings: BiometricsSettings, min_speech_s: float) -> QualityReport:
    """Run every gate on ``split``; clipping and level are measured on the kept speech samples."""
    clip = clipping_ratio(split.speech, settings.clip_level)
    level = level_dbfs(split.speech)
    snr = snr_db(split)
    reasons: list[str] = []
    if split.net_speech_s < min_speech_s:
        reasons.append(f"{SHORT}: {split.net_speech_s:.1f} s of speech, need {min_speech_s:.1f} s; "
                       f"{ADVICE[SHORT]}")
    if clip > settings.max_clipping_ratio:
        reasons.append(f"{CLIPPED}: {clip:.2%} of speech samples at full scale, limit "
                       f"{settings.max_clipping_ratio:.2%}; {ADVICE[CLIPPED]}")
    if level < settings.min_level_dbfs:
        reasons.append(f"{QUIET}: speech level {level:.1f} dBFS, need {settings.min_level_dbfs:.1f} dBFS; "
                       f"{ADVICE[QUIET]}")
    if snr < settings.min_snr_db:
        reasons.append(f"{NOISY}: SNR {snr:.1f} dB, need {settings.min_snr_db:.1f} dB; {ADVICE[NOISY]}")
    return QualityReport(not reasons, reasons, split.net_speech_s, clip, snr, level)

"""What a caller's voice goes through before Hotline hears it: 8 kHz, a G.711 codec, Hotline's 16 kHz decoder.

Voiceprints are enrolled, calibrated and benchmarked on audio passed through this channel, so that the
scores they are tuned on are the scores a call produces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf
import soxr

from media import g711
from media.codecs import decoder_for
from media.frame import Pcm
from media.prompt import PromptError, load_pcm

Channel = Literal["none", "PCMU", "PCMA"]
NARROWBAND = 8000
PACKET = 160  # samples per 20 ms packet at 8 kHz


def telephone(pcm8k: Pcm, codec: Literal["PCMU", "PCMA"] = "PCMU") -> Pcm:
    """8 kHz int16 audio encoded with ``codec`` per 20 ms packet and decoded as a call decodes it (16 kHz)."""
    encode = g711.ulaw_encode if codec == "PCMU" else g711.alaw_encode
    decoder = decoder_for(codec)
    usable = pcm8k.size - pcm8k.size % PACKET
    if usable == 0:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate([decoder.decode(encode(pcm8k[i : i + PACKET])) for i in range(0, usable, PACKET)])


def load_narrowband(path: Path) -> Pcm:
    """Any audio file soundfile reads, as 8 kHz mono int16 (resampled when needed)."""
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise PromptError(path, f"not a readable audio file ({exc})") from exc
    mono = data.mean(axis=1)
    if rate != NARROWBAND:
        mono = soxr.resample(mono, rate, NARROWBAND, quality="HQ")
    return np.clip(np.round(mono * 32767.0), -32768, 32767).astype(np.int16)


def load_call_audio(path: Path, channel: Channel = "PCMU") -> Pcm:
    """A recording as a call would deliver it (16 kHz); ``channel="none"`` reads it wideband as it is."""
    if channel == "none":
        return load_pcm(path)
    return telephone(load_narrowband(path), channel)

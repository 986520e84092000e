"""GE2E speaker encoder from the ``resemblyzer`` package (3-layer LSTM, 256-d, weights in the wheel)."""

from __future__ import annotations

import hashlib
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from biometrics.embedder import check_pcm
from biometrics.errors import BackendUnavailableError
from biometrics.voiceprint import Vector, l2_normalize
from media.frame import Pcm

MODEL_ID = "resemblyzer-ge2e"
# Bump when the audio handed to the encoder changes (it changes the embedding space).
PREPROCESSING = "pp1"
# resemblyzer trains on audio normalised up to -30 dBFS; we normalise every input to exactly this level
# so that line level does not move the embedding.
TARGET_DBFS = -30.0


def _weights_path(module_file: str) -> Path:
    return Path(module_file).resolve().parent / "pretrained.pt"


def _sha256_prefix(path: Path, chars: int = 12) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:chars]


class ResemblyzerEmbedder:
    """:class:`~biometrics.embedder.Embedder` on resemblyzer's ``VoiceEncoder``.

    ``version`` is ``<package version>+<sha256 prefix of pretrained.pt>+<preprocessing revision>``.
    Input is level-normalised speech as float32 in [-1, 1]; ``embed_utterance`` averages the
    embeddings of 1.6 s windows (at least one, zero-padded for shorter input).
    """

    model_id = MODEL_ID
    dim = 256

    def __init__(self, device: str = "cpu") -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # resemblyzer imports a deprecated scipy path
                import resemblyzer
                from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise BackendUnavailableError("resemblyzer", f"cannot import resemblyzer ({exc})") from exc
        weights = _weights_path(resemblyzer.__file__)
        if not weights.is_file():
            raise BackendUnavailableError("resemblyzer", f"pretrained weights missing at {weights}")
        try:
            package = metadata.version("resemblyzer")
        except metadata.PackageNotFoundError:
            package = "unknown"
        self.version = f"{package}+{_sha256_prefix(weights)}+{PREPROCESSING}"
        self.weights_path = weights
        self._encoder: Any = VoiceEncoder(device, verbose=False, weights_fpath=weights)
        self._encoder.eval()

    def embed(self, pcm16k: Pcm) -> Vector:
        """Embedding of speech-only 16 kHz int16 audio (L2-normalised float32)."""
        check_pcm(pcm16k)
        wav = pcm16k.astype(np.float32) / 32768.0
        rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))
        if rms > 0:
            wav = wav * np.float32(10 ** (TARGET_DBFS / 20) / rms)
        vector = self._encoder.embed_utterance(wav.astype(np.float32))
        return l2_normalize(vector)

"""The embedding model interface and the factory that picks a backend from settings."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from biometrics.errors import NoSpeechError
from biometrics.voiceprint import ModelTag, Vector, Voiceprint
from media.frame import Pcm


@runtime_checkable
class Embedder(Protocol):
    """Turns speech into a fixed-size speaker embedding.

    Implementations must be safe to call from worker threads (the caller may run ``embed`` in a
    thread pool) and deterministic (the same samples always give the same vector).
    """

    @property
    def model_id(self) -> str:
        """Model family name; part of every stored voiceprint."""
        ...

    @property
    def version(self) -> str:
        """Exact version: package, weights hash, preprocessing revision."""
        ...

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        ...

    def embed(self, pcm16k: Pcm) -> Vector:
        """L2-normalised float32 embedding of 16 kHz mono int16 *speech-only* audio."""
        ...


def model_tag(embedder: Embedder) -> ModelTag:
    """The tag identifying ``embedder``'s embedding space."""
    return ModelTag(embedder.model_id, embedder.version)


def embed_voiceprint(embedder: Embedder, pcm16k: Pcm) -> Voiceprint:
    """Embed speech and label the result with the model that made it."""
    return Voiceprint(embedder.embed(pcm16k), model_tag(embedder))


def check_pcm(pcm16k: Pcm) -> None:
    """Raise unless ``pcm16k`` is non-empty 1-D int16 (what every backend accepts)."""
    if pcm16k.ndim != 1 or pcm16k.dtype != np.int16:
        raise TypeError(f"expected 1-D int16 PCM, got {pcm16k.dtype} with shape {pcm16k.shape}")
    if pcm16k.size == 0:
        raise NoSpeechError(0)

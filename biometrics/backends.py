"""Choosing the embedding backend. Backends are imported lazily: torch loads only when one is built."""

from __future__ import annotations

from biometrics.embedder import Embedder
from biometrics.settings import BiometricsSettings


def load_embedder(settings: BiometricsSettings) -> Embedder:
    """Instantiate the configured backend (imported lazily: torch loads only here)."""
    if settings.backend == "speechbrain":
        from biometrics.speechbrain_backend import SpeechBrainEmbedder

        return SpeechBrainEmbedder(settings.speechbrain_source, settings.speechbrain_savedir, settings.device)
    from biometrics.resemblyzer_backend import ResemblyzerEmbedder

    return ResemblyzerEmbedder(settings.device)

"""Optional ECAPA-TDNN backend on SpeechBrain (``pip install 'hotline[speechbrain]'``).

SpeechBrain and torchaudio are imported only when this backend is instantiated. A local model
directory is loaded with ``overrides={"pretrained_path": DIR}`` so that every file comes from DIR
and nothing is downloaded; a model id (``speechbrain/spkrec-ecapa-voxceleb``) is fetched from the
hub on first use.
"""

from __future__ import annotations

import hashlib
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from biometrics.embedder import check_pcm
from biometrics.errors import BackendUnavailableError
from biometrics.voiceprint import Vector, l2_normalize
from media.frame import Pcm

MODEL_ID = "speechbrain-ecapa"
BACKEND = "speechbrain"


def _import_encoder_classifier() -> Any:
    try:
        from speechbrain.inference.speaker import EncoderClassifier
    except ImportError as exc:  # speechbrain itself, or torchaudio/hyperpyyaml under it
        hint = "install the optional extra: pip install 'hotline[speechbrain]'"
        raise BackendUnavailableError(BACKEND, f"cannot import speechbrain ({exc}); {hint}") from exc
    return EncoderClassifier


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "nockpt"


class SpeechBrainEmbedder:
    """:class:`~biometrics.embedder.Embedder` on a SpeechBrain ``EncoderClassifier`` (ECAPA-TDNN).

    ``version`` is ``<speechbrain version>+<sha256 prefix of embedding_model.ckpt>``.
    """

    model_id = MODEL_ID

    def __init__(self, source: str | None, savedir: Path | None = None, device: str = "cpu") -> None:
        if not source:
            raise BackendUnavailableError(BACKEND, "biometrics.speechbrain_source is not set")
        encoder_classifier = _import_encoder_classifier()
        import torch

        self._torch = torch
        local = Path(source).expanduser()
        save = Path(savedir) if savedir else Path(tempfile.mkdtemp(prefix="hotline-speechbrain-"))
        kwargs: dict[str, Any] = {"source": str(local) if local.is_dir() else source, "savedir": str(save),
                                  "run_opts": {"device": device}}
        if local.is_dir():
            if not (local / "hyperparams.yaml").is_file():
                raise BackendUnavailableError(BACKEND, f"{local} has no hyperparams.yaml")
            kwargs["overrides"] = {"pretrained_path": str(local.resolve())}
        try:
            self._model = encoder_classifier.from_hparams(**kwargs)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise BackendUnavailableError(BACKEND, f"cannot load model from {source}: {exc}") from exc
        self._model.eval()
        ckpt = (local if local.is_dir() else save) / "embedding_model.ckpt"
        self.version = f"{metadata.version('speechbrain')}+{_fingerprint(ckpt)}"
        with torch.no_grad():
            probe = self._model.encode_batch(torch.zeros(1, 16000))
        self.dim = int(probe.reshape(-1).shape[0])

    def embed(self, pcm16k: Pcm) -> Vector:
        """Embedding of speech-only 16 kHz int16 audio (L2-normalised float32)."""
        check_pcm(pcm16k)
        torch = self._torch
        wav = torch.from_numpy(pcm16k.astype(np.float32) / 32768.0).unsqueeze(0)
        with torch.no_grad():
            out = self._model.encode_batch(wav, torch.ones(1))
        return l2_normalize(out.reshape(-1).cpu().numpy())

"""SpeechBrain ECAPA backend loaded from a local directory (``make test-speechbrain``).

Skipped unless speechbrain (and torchaudio) are importable. The test builds a tiny ECAPA-TDNN itself,
saves its weights with a hyperparams.yaml into a directory, and loads that directory through
``SpeechBrainEmbedder`` (``overrides={"pretrained_path": DIR}``): nothing is downloaded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

try:
    import speechbrain  # noqa: F401
    import torch
    from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN
except ImportError as exc:  # the default install: the optional extra is not there
    pytest.skip(f"speechbrain is not importable ({exc}); install the [speechbrain] extra and run "
                "`make test-speechbrain`", allow_module_level=True)

from biometrics.backends import load_embedder
from biometrics.embedder import Embedder
from biometrics.settings import BiometricsSettings
from biometrics.speech import split_speech
from biometrics.speechbrain_backend import SpeechBrainEmbedder
from tests.biometrics.conftest import with_gaps

N_MELS, DIM = 24, 32
ECAPA_ARGS = {"input_size": N_MELS, "channels": [32, 32, 32, 32, 96], "kernel_sizes": [5, 3, 3, 3, 1],
              "dilations": [1, 2, 3, 4, 1], "attention_channels": 16, "se_channels": 16, "lin_neurons": DIM}

HPARAMS = f"""
pretrained_path: placeholder
compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: {N_MELS}
mean_var_norm: !new:speechbrain.processing.features.InputNormalization
    norm_type: sentence
    std_norm: False
embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN
    input_size: {N_MELS}
    channels: [32, 32, 32, 32, 96]
    kernel_sizes: [5, 3, 3, 3, 1]
    dilations: [1, 2, 3, 4, 1]
    attention_channels: 16
    se_channels: 16
    lin_neurons: {DIM}
classifier: !new:speechbrain.lobes.models.ECAPA_TDNN.Classifier
    input_size: {DIM}
    out_neurons: 3
modules:
    compute_features: !ref <compute_features>
    mean_var_norm: !ref <mean_var_norm>
    embedding_model: !ref <embedding_model>
    classifier: !ref <classifier>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        embedding_model: !ref <embedding_model>
    paths:
        embedding_model: !ref <pretrained_path>/embedding_model.ckpt
"""


def _tiny_checkpoint(directory: Path, seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    model = ECAPA_TDNN(**ECAPA_ARGS)
    model.train()
    with torch.no_grad():  # move BatchNorm statistics away from their defaults
        model(torch.randn(4, 120, N_MELS))
    directory.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    torch.save(state, directory / "embedding_model.ckpt")
    (directory / "hyperparams.yaml").write_text(HPARAMS)
    return state


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_local_directory(tmp_path: Path, fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    model_dir = tmp_path / "ecapa-tiny"
    saved = _tiny_checkpoint(model_dir, seed=0)
    settings = BiometricsSettings(backend="speechbrain", speechbrain_source=str(model_dir),
                                  speechbrain_savedir=tmp_path / "save")
    embedder = load_embedder(settings)
    assert isinstance(embedder, SpeechBrainEmbedder) and isinstance(embedder, Embedder)
    assert embedder.model_id == "speechbrain-ecapa" and embedder.dim == DIM
    sha = hashlib.sha256((model_dir / "embedding_model.ckpt").read_bytes()).hexdigest()[:12]
    assert embedder.version.endswith("+" + sha)
    loaded = embedder._model.mods.embedding_model.state_dict()
    assert all(torch.equal(loaded[k].cpu(), v) for k, v in saved.items())  # weights came from the directory

    speech = split_speech(with_gaps(fsdd_pcm["george"][:6])).speech
    a, b = embedder.embed(speech), embedder.embed(speech.copy())
    assert a.dtype == np.float32 and a.shape == (DIM,)
    assert np.array_equal(a, b) and abs(float(np.linalg.norm(a)) - 1) < 1e-5


def test_other_weights_other_version(tmp_path: Path) -> None:
    _tiny_checkpoint(tmp_path / "a", seed=0)
    _tiny_checkpoint(tmp_path / "b", seed=1)
    va = SpeechBrainEmbedder(str(tmp_path / "a"), tmp_path / "sa").version
    vb = SpeechBrainEmbedder(str(tmp_path / "b"), tmp_path / "sb").version
    assert va != vb

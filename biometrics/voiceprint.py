"""What every embedding carries: the vector and the exact model that produced it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from biometrics.errors import ModelMismatchError
from biometrics.tag import ModelTag

__all__ = ["ModelTag", "Vector", "Voiceprint", "l2_normalize", "require_same_model"]

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class Voiceprint:
    """An L2-normalised speaker embedding and the model that made it."""

    vector: Vector
    model: ModelTag

    @property
    def model_id(self) -> str:
        """Embedding model name, e.g. ``resemblyzer-ge2e``."""
        return self.model.model_id

    @property
    def version(self) -> str:
        """Model version (package version, weights hash, preprocessing revision)."""
        return self.model.version

    @property
    def dim(self) -> int:
        """Number of dimensions."""
        return int(self.vector.shape[0])


def l2_normalize(vector: npt.ArrayLike) -> Vector:
    """``vector`` as float32 with unit Euclidean norm (rows, for a 2-D array)."""
    arr = np.asarray(vector, dtype=np.float64)
    norm = np.linalg.norm(arr, axis=-1, keepdims=True)
    return (arr / np.maximum(norm, 1e-12)).astype(np.float32)


def require_same_model(enrolled: ModelTag, other: ModelTag, what: str = "probe") -> None:
    """Raise :class:`ModelMismatchError` unless both tags are equal."""
    if enrolled != other:
        raise ModelMismatchError(enrolled, other, what)

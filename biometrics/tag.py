"""The identity of an embedding space (model and version)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelTag:
    """Identifies an embedding space: scores are only meaningful between vectors with equal tags."""

    model_id: str
    version: str

    def __str__(self) -> str:
        return f"{self.model_id}@{self.version}"

"""Errors raised by the voiceprint engine. Each one carries its data as attributes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from biometrics.tag import ModelTag

if TYPE_CHECKING:
    from biometrics.quality import QualityReport


class BiometricsError(Exception):
    """Base class of every voiceprint error."""


class BackendUnavailableError(BiometricsError):
    """An embedding backend cannot be loaded (package missing, model files missing, ...)."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"voiceprint backend {backend!r} is unavailable: {reason}")
        self.backend = backend
        self.reason = reason


class ModelMismatchError(BiometricsError):
    """Two things made by different embedding models (or versions) were about to be compared.

    ``what`` names the second party: "probe", "cohort", "calibration" or "embedder".
    """

    def __init__(self, enrolled: ModelTag, probe: ModelTag, what: str = "probe") -> None:
        super().__init__(
            f"scores are not comparable across models: enrolled with {enrolled}, {what} made by {probe}"
        )
        self.enrolled = enrolled
        self.probe = probe
        self.what = what


class NoSpeechError(BiometricsError):
    """There is not enough speech to compute an embedding."""

    def __init__(self, samples: int, reason: str = "no speech samples") -> None:
        super().__init__(f"cannot embed {samples} samples: {reason}")
        self.samples = samples
        self.reason = reason


class QualityError(BiometricsError):
    """Enrolment audio failed the quality gates; ``report.reasons`` says why."""

    def __init__(self, report: QualityReport) -> None:
        super().__init__("voiceprint audio rejected: " + "; ".join(report.reasons))
        self.report = report


class CohortError(BiometricsError):
    """A cohort file cannot be built, read or used."""

    def __init__(self, path: Path | None, reason: str) -> None:
        super().__init__(f"cohort {path}: {reason}" if path else f"cohort: {reason}")
        self.path = path
        self.reason = reason


class CalibrationError(BiometricsError):
    """A calibration cannot be computed, read or used."""

    def __init__(self, path: Path | None, reason: str) -> None:
        super().__init__(f"calibration {path}: {reason}" if path else f"calibration: {reason}")
        self.path = path
        self.reason = reason


class DatasetError(BiometricsError):
    """A directory of speaker audio cannot be used for calibration or a cohort."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"audio directory {path}: {reason}")
        self.path = path
        self.reason = reason


class TemplateCryptoError(BiometricsError):
    """Base class of voiceprint template encryption errors."""


class TemplateKeyMissingError(TemplateCryptoError):
    """No template key is configured, or the configured one cannot be read or parsed."""

    def __init__(self, key_file: Path | None, key_env: str, reason: str) -> None:
        where = f"key file {key_file}" if key_file is not None else f"environment variable {key_env}"
        super().__init__(
            f"voiceprint template key unavailable ({where}): {reason}. Set biometrics.key_file to a file "
            f"holding 32 raw bytes or 64 hex characters, or export {key_env} as hex or base64 of 32 bytes."
        )
        self.key_file = key_file
        self.key_env = key_env
        self.reason = reason


class TemplateKeyError(TemplateCryptoError):
    """A stored template was sealed with a different key than the one loaded."""

    def __init__(self, key_id_hint: str, reason: str) -> None:
        super().__init__(f"voiceprint template key mismatch (template key id {key_id_hint}): {reason}")
        self.key_id_hint = key_id_hint
        self.reason = reason


class TemplateIntegrityError(TemplateCryptoError):
    """A template failed authentication: altered bytes, or opened for another customer or model."""

    def __init__(self, customer_id: str, model: ModelTag | None, reason: str) -> None:
        what = f"voiceprint template ({model})" if model is not None else "sealed biometric data"
        super().__init__(f"{what} for customer {customer_id!r} rejected: {reason}")
        self.customer_id = customer_id
        self.model = model
        self.reason = reason

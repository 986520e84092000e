"""The facade the API uses: enrol from call audio, verify a claimed customer, verify passively.

Everything here is synchronous and CPU-bound (the embedding is the slow part): an asyncio caller
runs these methods in a thread pool. ``VoiceprintEngine`` holds no per-call state, so one engine
serves every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from biometrics.backends import load_embedder
from biometrics.calibration import Calibration, Decision, decide, load_calibration
from biometrics.cohort import load_cohort
from biometrics.embedder import Embedder
from biometrics.errors import CalibrationError, QualityError
from biometrics.pooling import SegmentCache, SegmentEncoder
from biometrics.quality import SHORT, QualityReport, assess
from biometrics.scoring import Scorer
from biometrics.settings import BiometricsSettings
from biometrics.speech import VAD_FRAME_SAMPLES, SpeechSplit, SpeechTracker, merge_splits, split_speech
from biometrics.voiceprint import ModelTag, Voiceprint, require_same_model
from media.frame import Pcm


@dataclass(frozen=True, eq=False)
class EnrollmentResult:
    """A new voiceprint (encrypt it with ``TemplateCipher`` before storing) and how it was made."""

    embedding: Voiceprint
    net_speech_s: float
    quality: QualityReport


@dataclass(frozen=True)
class Verification:
    """One verification outcome. ``score`` is None when there was no speech to embed."""

    score: float | None
    threshold: float
    decision: Decision
    net_speech_s: float
    model_id: str
    version: str = ""
    reasons: list[str] = field(default_factory=list)


class VoiceprintEngine:
    """Enrolment and verification with one embedder, cohort scorer and calibration.

    The embedder is wrapped in a :class:`SegmentEncoder` with ``settings.pooling``; its tag (model
    id, version, pooling) must match the cohort's and the calibration's.
    """

    def __init__(self, settings: BiometricsSettings, embedder: Embedder, scorer: Scorer,
                 calibration: Calibration) -> None:
        self.settings = settings
        self.embedder = embedder
        self.encoder = SegmentEncoder(embedder, settings.pooling)
        self.scorer = scorer
        self.calibration = calibration
        self.model: ModelTag = self.encoder.model
        require_same_model(self.model, calibration.model, "calibration")
        if scorer.model is not None:
            require_same_model(self.model, scorer.model, "cohort")
        if scorer.norm != calibration.norm:
            raise CalibrationError(None, f"calibrated for {calibration.norm!r} but the scorer uses {scorer.norm!r}")

    @classmethod
    def from_settings(cls, settings: BiometricsSettings) -> VoiceprintEngine:
        """Load the configured backend, calibration file and (if the norm needs one) cohort file."""
        embedder = load_embedder(settings)
        tag = SegmentEncoder(embedder, settings.pooling).model
        calibration = load_calibration(settings.calibration_file, tag)
        cohort = load_cohort(settings.cohort_file, tag) if calibration.norm != "none" else None
        return cls(settings, embedder, Scorer(cohort, calibration.norm, calibration.top_k), calibration)

    def split(self, pcm16k: Pcm, max_speech_s: float | None = None) -> SpeechSplit:
        """The speech of a recording, per the configured VAD; stop once ``max_speech_s`` of speech is in."""
        if max_speech_s is None:
            return split_speech(pcm16k, self.settings.vad_aggressiveness, self.settings.vad_padding_ms)
        tracker = SpeechTracker(self.settings.vad_aggressiveness, self.settings.vad_padding_ms)
        for start in range(0, pcm16k.size, VAD_FRAME_SAMPLES):
            tracker.push(pcm16k[start : start + VAD_FRAME_SAMPLES])
            if tracker.net_speech_s >= max_speech_s:
                break
        return tracker.snapshot()

    def enroll_from_pcm(self, pcms: Sequence[Pcm]) -> EnrollmentResult:
        """Voiceprint from one or more 16 kHz int16 recordings; :class:`QualityError` if a gate fails."""
        speech = merge_splits([self.split(p) for p in pcms])
        report = assess(speech, self.settings, self.settings.min_enroll_speech_s)
        if not report.ok:
            raise QualityError(report)
        return EnrollmentResult(self.encoder.voiceprint(speech.segments), speech.net_speech_s, report)

    def verify(self, enrolled: Voiceprint, pcm16k: Pcm) -> Verification:
        """Verify a recording (its first ``verify_max_speech_s`` of speech) against an enrolled voiceprint."""
        return self.verify_speech(enrolled, self.split(pcm16k, self.settings.verify_max_speech_s))

    def verify_speech(self, enrolled: Voiceprint, speech: SpeechSplit, cache: SegmentCache | None = None
                      ) -> Verification:
        """Verify already-split speech. Pure (no state changes): safe to run in worker threads.

        A failed quality gate makes the decision ``inconclusive`` (the score is still reported).
        ``cache`` memoises segment embeddings of one growing stream (see :class:`PassiveVerifier`).
        """
        require_same_model(enrolled.model, self.model, "embedder")
        report = assess(speech, self.settings, self.settings.verify_min_speech_s)
        score = None
        if speech.speech.size:
            score = self.scorer.score(enrolled, self.encoder.voiceprint(speech.segments, cache))
        cal = self.calibration
        margin = self.settings.inconclusive_margin
        decision = decide(score, cal.threshold, cal.inconclusive_margin if margin is None else margin,
                          speech.net_speech_s, self.settings.verify_min_speech_s)
        if any(code != SHORT for code in report.codes()):
            decision = "inconclusive"
        return Verification(score, cal.threshold, decision, speech.net_speech_s, self.model.model_id,
                            self.model.version, report.reasons)


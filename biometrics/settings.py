"""Settings of the voiceprint engine (composed into the main settings as ``biometrics``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs" / "voiceprint"
DEFAULT_COHORT = CONFIG_DIR / "cohort.npz"
DEFAULT_CALIBRATION = CONFIG_DIR / "calibration.json"

Backend = Literal["resemblyzer", "speechbrain"]
Norm = Literal["none", "snorm", "asnorm"]
Pooling = Literal["segments", "concat"]


class BiometricsSettings(BaseModel):
    """Voice biometrics: enrolment, verification, quality gates, calibration and template encryption.

    All durations are *net speech* (voiced 30 ms VAD frames), not wall-clock call time.
    """

    enabled: bool = Field(False, description="Turn voice biometrics on (needs a key and a consent flow).")
    backend: Backend = Field("resemblyzer", description="Embedding model: resemblyzer (GE2E, ships in its "
                             "wheel) or speechbrain (ECAPA-TDNN, optional extra, needs torchaudio).")
    device: str = Field("cpu", description="Torch device for the embedding model.")
    speechbrain_source: str | None = Field(
        None, description="speechbrain backend: a local directory holding hyperparams.yaml and "
        "embedding_model.ckpt (recommended; nothing is downloaded), or a model id such as "
        "speechbrain/spkrec-ecapa-voxceleb (fetched from the Hugging Face hub on first use).")
    speechbrain_savedir: Path | None = Field(
        None, description="Where speechbrain links/copies the model files (default: a temporary directory).")
    pooling: Pooling = Field("concat", description="concat: embed all speech at once; segments: average the "
                             "embeddings of each VAD segment (utterance). Part of the model version. concat "
                             "measured better on real telephone speech (benchmarks/voiceprint.py, tune split).")
    vad_aggressiveness: int = Field(2, ge=0, le=3, description="webrtcvad mode used to keep speech only.")
    vad_padding_ms: int = Field(90, ge=0, le=600, description="Audio kept around each voiced run (30 ms steps).")
    min_enroll_speech_s: float = Field(6.0, gt=0, description="Net speech needed to enrol (6 s: the longest "
                                       "whole second that 3 read sentences reach for 95% of the tune speakers).")
    verify_min_speech_s: float = Field(3.0, gt=0, description="Net speech before the first verification.")
    verify_max_speech_s: float = Field(20.0, gt=0, description="Passive verification stops after this much "
                                       "net speech (the last score uses exactly this much).")
    update_every_s: float = Field(2.0, gt=0, description="Passive verification re-scores after this much "
                                  "more net speech.")
    max_clipping_ratio: float = Field(0.005, ge=0, le=1, description="Largest share of speech samples at or "
                                      "above clip_level (in magnitude) before audio counts as clipped.")
    clip_level: int = Field(32000, ge=1, le=32767, description="Magnitude treated as full scale. Below 32767 "
                            "because G.711 decodes its loudest code to 32124 (u-law) / 32256 (A-law).")
    min_snr_db: float = Field(15.0, description="Smallest accepted speech-to-noise estimate (see quality.py).")
    min_level_dbfs: float = Field(-42.0, description="Quietest accepted speech level (RMS of speech, dBFS).")
    cohort_file: Path = Field(DEFAULT_COHORT, description="Impostor cohort (.npz) for score normalisation.")
    calibration_file: Path = Field(DEFAULT_CALIBRATION, description="Calibration JSON: norm, threshold, "
                                   "error rates, made by `hotline voiceprint calibrate`.")
    cohort_entry_speech_s: float = Field(3.0, gt=0, description="Net speech per cohort embedding when "
                                         "building a cohort.")
    asnorm_top_k: int = Field(50, ge=1, description="AS-norm: cohort scores averaged per side when "
                              "calibrating (the calibration file records the value actually used).")
    target_far: float = Field(0.01, gt=0, lt=1, description="False-accept rate the threshold is set for.")
    inconclusive_margin: float | None = Field(None, ge=0, description="Scores within this distance of the "
                                              "threshold are inconclusive, in units of the calibrated score "
                                              "(cosine for norm none, z-units for snorm/asnorm). None: the "
                                              "calibration file's margin (0.5 for files that have none).")
    replay_detection: bool = Field(True, description="Fingerprint enrolment recordings and calls' caller audio, "
                                   "and flag audio that replays one of them (decision suspected_replay).")
    replay_min_aligned: int = Field(10, ge=3, description="Landmarks that must line up at one offset within 4 s "
                                    "for a replay (10: twice the largest live-speech value on the tune split, "
                                    "benchmarks/replay.py).")
    replay_keep_days: int = Field(90, ge=1, description="Days a call's caller fingerprint is kept for replay "
                                  "checks; enrolment fingerprints live as long as the voiceprint.")
    key_file: Path | None = Field(None, description="File with the 256-bit template key (32 raw bytes or 64 "
                                  "hex chars). Takes precedence over key_env. Never stored in the database.")
    key_env: str = Field("HOTLINE_VOICEPRINT_KEY", description="Environment variable with the template key "
                         "(hex or base64 of 32 bytes), used when key_file is not set.")

    @model_validator(mode="after")
    def _ordered(self) -> BiometricsSettings:
        if self.verify_max_speech_s < self.verify_min_speech_s:
            raise ValueError(
                f"verify_max_speech_s ({self.verify_max_speech_s}) must be >= "
                f"verify_min_speech_s ({self.verify_min_speech_s})"
            )
        return self

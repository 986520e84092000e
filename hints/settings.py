"""Settings of the whispered-hints engine (composed into the main settings as ``hints``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from hints.languages import Language

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_KNOWLEDGE_DIR = CONFIG_DIR / "knowledge"
DEFAULT_RULES_FILE = CONFIG_DIR / "hints.yaml"


class HintSettings(BaseModel):
    """Knowledge-base hints matched on transcript finals, proactive profile rules, predicted call reason."""

    enabled: bool = Field(True, description="Turn whispered hints on.")
    knowledge_dir: Path = Field(DEFAULT_KNOWLEDGE_DIR, description="Directory of knowledge-base YAML files "
                                "(every *.yaml / *.yml file in it is loaded).")
    rules_file: Path = Field(DEFAULT_RULES_FILE, description="YAML file with the proactive profile rules.")
    languages: list[Language] | None = Field(None, min_length=1, description="Language codes (ISO 639, "
                                             "2-3 lowercase letters, e.g. [\"uk\", \"ko\"]) whose "
                                             "knowledge-base trigger phrases are loaded; the rest are skipped, "
                                             "and articles left without triggers are dropped. Unset: every "
                                             "language the knowledge base has. A listed language with no "
                                             "triggers in the knowledge base fails the load. Finals in other "
                                             "languages fire no knowledge-base hint.")
    stopwords: dict[Language, tuple[str, ...]] = Field(default_factory=dict, description="Extra stop words "
                                                       "per language code, never counted as evidence. They are "
                                                       "added to the built-in uk/ru/en lists. Other languages "
                                                       "have no built-in list, so they drop only the words "
                                                       "listed here.")
    threshold: float = Field(0.5, ge=0, le=1, description="Smallest confidence (0..1) for a knowledge-base "
                             "article to fire; weaker matches stay silent.")
    reason_min_confidence: float = Field(0.3, ge=0, le=1, description="Smallest confidence of a predicted "
                                         "call reason to show it as a hint.")
    repeat_window_days: int = Field(7, ge=1, description="An earlier contact within this many days counts as "
                                    "recent: repeat-contact rule and history-based reason prediction.")
    legs: tuple[str, ...] = Field(("caller",), description="Call legs whose finals trigger knowledge-base "
                                  "hints (add \"agent\" to match the agent's words too).")
    context_finals: int = Field(2, ge=1, le=10, description="Finals of the same leg matched together (the "
                                "newest and the ones before it), so a request split by a pause still matches.")
    max_per_final: int = Field(2, ge=1, description="At most this many knowledge-base hints per final.")
    runner_up_ratio: float = Field(0.5, ge=0, le=1, description="A second article of the same final fires "
                                   "only when its ranking score is at least this share of the best one's.")
    reason_title: str = Field("Ймовірна причина дзвінка: {topic_title}", description="Title of the "
                              "predicted-reason hint; {topic_title} is the article title (or the topic id).")
    trigger_weight: float = Field(3.0, ge=0, description="Weight of trigger phrases in the ranking.")
    title_weight: float = Field(2.0, ge=0, description="Weight of the article title in the ranking.")
    body_weight: float = Field(1.0, ge=0, description="Weight of the short answer and body in the ranking.")
    bm25_k1: float = Field(1.2, gt=0, description="BM25 term-frequency saturation.")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalisation.")
    confidence_scale: float = Field(1.1, gt=0, description="Ranking score at which the score part of the "
                                    "confidence reaches 1 - 1/e (about 0.63): 1 - exp(-score / scale). A word "
                                    "found in one article's triggers scores about 1.57 (see hints/index.py).")

    @field_validator("reason_title")
    @classmethod
    def _reason_title(cls, title: str) -> str:
        try:
            title.format(topic_title="", topic="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"reason_title may use only {{topic_title}} and {{topic}}: {exc!r}") from exc
        return title

    @field_validator("legs")
    @classmethod
    def _legs(cls, legs: tuple[str, ...]) -> tuple[str, ...]:
        if not all(leg.strip() for leg in legs):
            raise ValueError(f"legs must be non-empty names, got {legs!r}")
        return legs

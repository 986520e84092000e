"""The knowledge base: articles in YAML files under one directory, validated on load."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hints.errors import KnowledgeBaseError
from hints.languages import Language
from hints.yamlfile import describe, read_yaml

# Hotline's own caller languages: every shipped article has triggers in each of them. The engine itself
# takes any language code (see hints.languages); nothing in it loops over this tuple.
LANGUAGES: tuple[str, ...] = ("uk", "ru", "en")
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class Article(BaseModel):
    """One knowledge-base article.

    ``language`` is the language of title, answer and body; ``triggers`` are short phrases a caller
    would say about the topic, per caller language. Languages are language codes (``uk``, ``en``,
    ``ko``...; see :mod:`hints.languages`), any number of them. ``topic`` is the one topic id the article answers
    (the same ids tag open cases and earlier interactions); ``tags`` are broader groupings.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    language: Language
    topic: str = Field(pattern=ID_PATTERN)
    tags: tuple[str, ...] = ()
    title: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    body: str = ""
    link: str | None = None
    triggers: dict[Language, tuple[str, ...]]

    @field_validator("triggers")
    @classmethod
    def _phrases(cls, triggers: dict[Language, tuple[str, ...]]) -> dict[Language, tuple[str, ...]]:
        for lang, phrases in triggers.items():
            if not phrases:
                raise ValueError(f"no trigger phrases for language {lang!r}")
            blank = [i for i, p in enumerate(phrases) if not p.strip()]
            if blank:
                raise ValueError(f"blank trigger phrase at {lang}[{blank[0]}]")
        return triggers

    @model_validator(mode="after")
    def _own_language(self) -> Article:
        if self.language not in self.triggers:
            raise ValueError(f"triggers must include the article's own language {self.language!r}")
        return self


class _KnowledgeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    articles: list[Article] = Field(min_length=1)


@dataclass(frozen=True)
class KnowledgeBase:
    """All articles, in file order (files sorted by name), with the file each came from."""

    articles: tuple[Article, ...]
    sources: dict[str, Path] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Article]:
        return iter(self.articles)

    def __len__(self) -> int:
        return len(self.articles)

    def get(self, article_id: str) -> Article | None:
        """The article with this id, if any."""
        return next((a for a in self.articles if a.id == article_id), None)

    def by_topic(self, topic: str) -> Article | None:
        """The first article answering this topic, if any."""
        return next((a for a in self.articles if a.topic == topic), None)

    @property
    def topics(self) -> frozenset[str]:
        """Every topic id some article answers."""
        return frozenset(a.topic for a in self.articles)


def load_file(path: Path) -> list[Article]:
    """Articles of one YAML file; :class:`KnowledgeBaseError` names the file and what is wrong."""
    raw = read_yaml(path, KnowledgeBaseError)
    try:
        return _KnowledgeFile.model_validate(raw).articles
    except ValidationError as exc:
        raise KnowledgeBaseError(path, describe(exc, raw, "articles", "article")) from exc


def load_knowledge(directory: Path, languages: Collection[str] | None = None) -> KnowledgeBase:
    """Every ``*.yaml``/``*.yml`` file of ``directory``; article ids must be unique across files.

    With ``languages``, only trigger phrases in those languages are kept. Every file is still validated
    in full. An article with no trigger phrase left is dropped. An article whose own language is not
    kept stays (its title and answer are still shown) but is found only through its remaining triggers.
    A listed language that no article has triggers in is an error (most likely a typo).
    """
    if not directory.is_dir():
        raise KnowledgeBaseError(directory, "not a directory")
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise KnowledgeBaseError(directory, "no *.yaml or *.yml files")
    articles: list[Article] = []
    sources: dict[str, Path] = {}
    for path in files:
        for article in load_file(path):
            if article.id in sources:
                raise KnowledgeBaseError(path, f"duplicate article id {article.id!r} (first in {sources[article.id]})")
            sources[article.id] = path
            articles.append(article)
    if languages is not None:
        return _only(articles, sources, frozenset(languages), directory)
    return KnowledgeBase(tuple(articles), sources)


def _only(articles: list[Article], sources: dict[str, Path], languages: frozenset[str],
          directory: Path) -> KnowledgeBase:
    """The articles restricted to trigger phrases in ``languages`` (see :func:`load_knowledge`)."""
    present = {lang for a in articles for lang in a.triggers}
    missing = sorted(languages - present)
    if missing:
        raise KnowledgeBaseError(directory, f"no article has trigger phrases in configured language(s) "
                                 f"{', '.join(map(repr, missing))} (the knowledge base has "
                                 f"{', '.join(map(repr, sorted(present)))})")
    kept = []
    for article in articles:
        triggers = {lang: phrases for lang, phrases in article.triggers.items() if lang in languages}
        if triggers:
            kept.append(article if len(triggers) == len(article.triggers)
                        else article.model_copy(update={"triggers": triggers}))
    return KnowledgeBase(tuple(kept), {a.id: sources[a.id] for a in kept})

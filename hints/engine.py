"""The hint engine shared by all calls: knowledge base, its indexes and the rules, loaded once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hints.knowledge import KnowledgeBase, load_knowledge
from hints.lemmas import Lemmatizer
from hints.matcher import KnowledgeMatcher
from hints.rule_config import RuleSpec, load_rules
from hints.session import HintSession
from hints.settings import HintSettings


class HintEngine:
    """Read-only after construction, so one engine serves every call; each call gets a :class:`HintSession`.

    A ``lemmatizer`` passed in is used as is (``settings.stopwords`` is then up to its maker)."""

    def __init__(self, settings: HintSettings, kb: KnowledgeBase, rules: tuple[RuleSpec, ...],
                 lemmatizer: Lemmatizer | None = None) -> None:
        self.settings = settings
        self.kb = kb
        self.rules = rules
        self.lemmatizer = lemmatizer or Lemmatizer(stopwords=settings.stopwords)
        self.matcher = KnowledgeMatcher(kb, self.lemmatizer, settings)
        self.topic_titles = {a.topic: a.title for a in reversed(kb.articles)}  # first article per topic wins

    @classmethod
    def load(cls, settings: HintSettings | None = None) -> HintEngine:
        """Load the knowledge base (its ``settings.languages`` only, if set) and rules named by ``settings``
        (raises KnowledgeBaseError / RulesError)."""
        s = settings or HintSettings()
        return cls(s, load_knowledge(s.knowledge_dir, s.languages), load_rules(s.rules_file))

    def session(self, clock: Callable[[], datetime] | None = None) -> HintSession:
        """A new per-call session (``clock`` returns aware datetimes; default: now in UTC)."""
        return HintSession(self, clock)

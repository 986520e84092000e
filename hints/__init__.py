"""Whispered hints for the agent: knowledge-base articles matched on the caller's words, proactive rules
over the customer profile, and the predicted reason for the call. Pure and synchronous. Imports nothing else
of Hotline.

>>> engine = HintEngine.load(HintSettings())          # once per process
>>> session = engine.session()                        # once per call
>>> session.on_final("я загубив картку", "caller", "uk")[0].id
'kb:card-lost'

Languages are configuration, not code. ``language`` in ``on_final`` / ``on_reason`` is any ISO 639 code
(two or three lowercase letters; a regional tag such as "uk-UA" or "ko_KR" counts as its base code). A
final fires articles only through the trigger phrases the knowledge base gives for that language:
adding ``triggers: {ko: [카드 분실]}`` to an article makes Korean finals match it, and no code changes.
``HintSettings.languages`` limits which knowledge-base languages are loaded. Ukrainian and Russian words
are lemmatized with pymorphy3 and Latin words go through an English stemmer. Words in every other script
(Hangul, CJK, Greek, Arabic...) match as whole lowercase words, so list the word forms callers use.
Stop words for other languages come from ``HintSettings.stopwords`` only.
"""

from hints.context import Card, CardStatus, Document, HintContext, Interaction, OpenCase, VerificationDecision
from hints.engine import HintEngine
from hints.errors import ContextError, HintsError, KnowledgeBaseError, LemmatizerError, RulesError
from hints.hint import Hint, HintKind
from hints.knowledge import Article, KnowledgeBase, load_knowledge
from hints.matcher import KbMatch, KnowledgeMatcher
from hints.reason import PredictedReason, predict_reason
from hints.rule_config import RuleSpec, load_rules
from hints.session import HintSession
from hints.settings import HintSettings

__all__ = [
    "Article", "Card", "CardStatus", "ContextError", "Document", "Hint", "HintContext", "HintEngine", "HintKind",
    "HintSession", "HintSettings", "HintsError", "Interaction", "KbMatch", "KnowledgeBase", "KnowledgeBaseError",
    "KnowledgeMatcher", "LemmatizerError", "OpenCase", "PredictedReason", "RuleSpec", "RulesError",
    "VerificationDecision", "load_knowledge", "load_rules", "predict_reason",
]

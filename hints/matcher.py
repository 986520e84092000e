"""Which knowledge-base articles a piece of caller speech is about, with a confidence and the words why.

Ranking is BM25F (``hints.index``). Confidence multiplies two things: how strong the ranking score is
(``1 - exp(-score / confidence_scale)``) and how much of the article's best-covered trigger phrase the
caller said (share of the phrase's content words). A single rare word that happens to sit in one
trigger phrase ("замовити" in "замовив картку", said about a pizza) thus stays under the threshold,
while a whole short phrase ("загубив картку", "шахрайство") fires.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from hints.errors import KnowledgeBaseError
from hints.index import Bm25Index, Document, Weights
from hints.knowledge import Article, KnowledgeBase
from hints.lemmas import Lemmatizer, Token, base_language
from hints.settings import HintSettings

Phrase = tuple[str, tuple[frozenset[str], ...]]  # (text, lemma set of each content word)


@dataclass(frozen=True)
class KbMatch:
    """One article matched by some text.

    ``matched`` are the (word, lemma) pairs that scored, ``phrase`` the trigger phrase best covered and
    ``coverage`` the share of its content words the text contains.
    """

    article: Article
    score: float
    confidence: float
    matched: tuple[tuple[str, str], ...]
    phrase: str | None
    coverage: float

    @property
    def why(self) -> str:
        """E.g. "загубив (загубити), картку (картка); trigger 'загубив картку'"."""
        words = ", ".join(word if word == lemma else f"{word} ({lemma})" for word, lemma in self.matched)
        return f"{words}; trigger {self.phrase!r}" if self.phrase else words


class KnowledgeMatcher:
    """One index per caller language over the articles that have trigger phrases in it.

    The languages are the ones that occur in the knowledge base's triggers (in first-seen order),
    limited to ``settings.languages`` when that is set. Any language code works.
    The title, answer and body of an article are indexed only in the article's own language; its
    trigger phrases in each language they are given for.
    """

    def __init__(self, kb: KnowledgeBase, lemmatizer: Lemmatizer, settings: HintSettings) -> None:
        self.kb = kb
        self.lemmatizer = lemmatizer
        self.settings = settings
        weights = Weights(settings.trigger_weight, settings.title_weight, settings.body_weight,
                          settings.bm25_k1, settings.bm25_b)
        self._articles: dict[str, list[Article]] = {}
        self._phrases: dict[str, list[tuple[Phrase, ...]]] = {}
        self._indexes: dict[str, Bm25Index] = {}
        for lang in kb_languages(kb, settings.languages):
            articles = [a for a in kb if lang in a.triggers]
            phrases = [self._trigger_phrases(a, lang) for a in articles]
            docs = [self._document(a, p, lang) for a, p in zip(articles, phrases, strict=True)]
            self._articles[lang], self._phrases[lang] = articles, phrases
            self._indexes[lang] = Bm25Index(docs, weights)

    @property
    def languages(self) -> tuple[str, ...]:
        """Caller languages that have an index."""
        return tuple(self._indexes)

    def _trigger_phrases(self, article: Article, lang: str) -> tuple[Phrase, ...]:
        out = []
        for text in article.triggers[lang]:
            tokens = self.lemmatizer.tokens(text, lang)
            if not tokens:
                where = self.kb.sources.get(article.id)
                raise KnowledgeBaseError(where or self.settings.knowledge_dir, f"article {article.id!r} "
                                         f"trigger {lang} {text!r} has only stop words: it can never match")
            out.append((text, tuple(t.lemmas for t in tokens)))
        return tuple(out)

    def _document(self, article: Article, phrases: tuple[Phrase, ...], lang: str) -> Document:
        triggers = [Token(text, lemmas) for text, phrase in phrases for lemmas in phrase]
        if article.language != lang:
            return Document(triggers)
        tokens = self.lemmatizer.tokens
        return Document(triggers, tokens(article.title, lang), tokens(article.answer + "\n" + article.body, lang))

    def confidence(self, score: float, coverage: float) -> float:
        """``(1 - exp(-score / confidence_scale)) * coverage``, in 0..1."""
        return (1.0 - math.exp(-score / self.settings.confidence_scale)) * coverage

    def rank(self, tokens: list[Token], language: str) -> list[KbMatch]:
        """Every article the tokens touch, best score first, with no threshold."""
        lang = base_language(language)
        index = self._indexes.get(lang)
        if index is None:
            return []
        said = frozenset().union(*(t.lemmas for t in tokens))
        out = []
        for d in index.score(tokens):
            phrase, coverage = _best_phrase(self._phrases[lang][d.doc], said)
            out.append(KbMatch(self._articles[lang][d.doc], d.score, self.confidence(d.score, coverage),
                               tuple(d.matched), phrase, coverage))
        return out

    def match(self, text: str, language: str, threshold: float | None = None) -> list[KbMatch]:
        """Articles ``text`` is about, most confident first: confidence at or above the threshold (at
        least one trigger word is implied: coverage is 0 without one), and a ranking score at least
        ``runner_up_ratio`` of the best such article's."""
        return self.match_tokens(self.lemmatizer.tokens(text, language), language, threshold)

    def match_tokens(self, tokens: list[Token], language: str, threshold: float | None = None,
                     exclude: frozenset[str] = frozenset()) -> list[KbMatch]:
        """:meth:`match` on tokens already made (see :meth:`select` for ``exclude``)."""
        return self.select(self.rank(tokens, language), threshold, exclude)

    def select(self, ranked: list[KbMatch], threshold: float | None = None,
               exclude: frozenset[str] = frozenset()) -> list[KbMatch]:
        """The matches of :meth:`rank` that fire, most confident first. Articles in ``exclude`` (ids) are
        left out before the runner-up rule, so an article shown already does not overshadow a new one."""
        floor = self.settings.threshold if threshold is None else threshold
        hits = [m for m in ranked if m.coverage > 0 and m.confidence >= floor and m.article.id not in exclude]
        if not hits:
            return []
        top = max(m.score for m in hits)
        close = [m for m in hits if m.score >= self.settings.runner_up_ratio * top]
        return sorted(close, key=lambda m: (-m.confidence, -m.score))


def kb_languages(kb: KnowledgeBase, only: Collection[str] | None = None) -> tuple[str, ...]:
    """The languages the articles have trigger phrases in, in first-seen order (only those in ``only``)."""
    found = dict.fromkeys(lang for article in kb for lang in article.triggers)
    return tuple(lang for lang in found if only is None or lang in only)


def _best_phrase(phrases: tuple[Phrase, ...], said: frozenset[str]) -> tuple[str | None, float]:
    """The trigger phrase with the largest share of its content words in ``said`` (ties: the longer)."""
    best: tuple[str | None, float, int] = (None, 0.0, 0)
    for text, words in phrases:
        hit = sum(1 for lemmas in words if lemmas & said)
        share = hit / len(words)
        if (share, hit) > (best[1], best[2]):
            best = (text, share, hit)
    return best[0], best[1]

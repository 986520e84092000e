"""BM25F ranking of documents with three fields: trigger phrases, title, body.

Trigger phrases count as a set (a lemma is in an article's triggers or it is not), so an article with
many trigger phrases is neither favoured nor penalised for it; title and body use length-normalised term
frequency. The weighted field frequencies are combined before BM25's saturation (BM25F), and every
posting's contribution is precomputed: a query only sums postings.

IDF is divided by the IDF of a lemma that occurs in one document only, so it lies in (0, 1] and scores
do not grow with the size of the knowledge base: a word found in one article's triggers is worth
``trigger * (k1 + 1) / (k1 + trigger)`` (about 1.57 with the defaults) whether there are 3 or 300.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from hints.lemmas import Token


@dataclass(frozen=True)
class Weights:
    """Field weights and BM25 parameters."""

    trigger: float = 3.0
    title: float = 2.0
    body: float = 1.0
    k1: float = 1.2
    b: float = 0.75


@dataclass(frozen=True)
class Document:
    """The tokens of one document's fields."""

    triggers: Sequence[Token]
    title: Sequence[Token] = ()
    body: Sequence[Token] = ()


@dataclass(frozen=True)
class Posting:
    """What one lemma contributes to one document's score; ``trigger``: it is one of its trigger lemmas."""

    doc: int
    score: float
    trigger: bool


@dataclass
class DocScore:
    """A document's score for a query and the query words that made it."""

    doc: int
    score: float = 0.0
    matched: list[tuple[str, str]] = field(default_factory=list)  # (word, lemma)
    trigger_words: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)


def _counts(tokens: Sequence[Token]) -> Counter[str]:
    c: Counter[str] = Counter()
    for tok in tokens:
        c.update(tok.lemmas)
    return c


class Bm25Index:
    """An inverted index over ``docs`` (positions in the sequence are the document numbers)."""

    def __init__(self, docs: Sequence[Document], weights: Weights | None = None) -> None:
        w = weights or Weights()
        self.size = len(docs)
        trig = [set(_counts(d.triggers)) for d in docs]
        title = [_counts(d.title) for d in docs]
        body = [_counts(d.body) for d in docs]
        avg_title = max(1e-9, sum(len(d.title) for d in docs) / max(1, len(docs)))
        avg_body = max(1e-9, sum(len(d.body) for d in docs) / max(1, len(docs)))
        idf_max = math.log(1 + (self.size - 1 + 0.5) / 1.5) if docs else 1.0
        df: Counter[str] = Counter()
        for i in range(len(docs)):
            df.update(trig[i] | set(title[i]) | set(body[i]))
        postings: defaultdict[str, list[Posting]] = defaultdict(list)
        for i, d in enumerate(docs):
            norm_title = 1 - w.b + w.b * len(d.title) / avg_title
            norm_body = 1 - w.b + w.b * len(d.body) / avg_body
            for lemma in trig[i] | set(title[i]) | set(body[i]):
                tf = (w.trigger * (lemma in trig[i]) + w.title * title[i][lemma] / norm_title
                      + w.body * body[i][lemma] / norm_body)
                if tf <= 0:
                    continue
                n = df[lemma]
                idf = math.log(1 + (self.size - n + 0.5) / (n + 0.5)) / idf_max
                postings[lemma].append(Posting(i, idf * tf * (w.k1 + 1) / (w.k1 + tf), lemma in trig[i]))
        self._postings: dict[str, tuple[Posting, ...]] = {k: tuple(v) for k, v in postings.items()}

    def postings(self, lemma: str) -> tuple[Posting, ...]:
        """Where a lemma occurs."""
        return self._postings.get(lemma, ())

    def score(self, query: Sequence[Token]) -> list[DocScore]:
        """Documents matching any query token, best first.

        Each query word counts once, through its best-scoring lemma; a document lemma is credited once
        even when several words of the query lead to it ("загубив ... загублено").
        """
        acc: dict[int, DocScore] = {}
        seen_words: set[str] = set()
        for tok in query:
            if tok.word in seen_words:
                continue
            seen_words.add(tok.word)
            best: dict[int, Posting] = {}
            best_lemma: dict[int, str] = {}
            for lemma in tok.lemmas:
                for p in self._postings.get(lemma, ()):
                    doc = acc.get(p.doc)
                    if doc is not None and lemma in doc.used:
                        continue
                    cur = best.get(p.doc)
                    if cur is None or p.score > cur.score:
                        best[p.doc], best_lemma[p.doc] = p, lemma
            for i, p in best.items():
                doc = acc.setdefault(i, DocScore(i))
                doc.score += p.score
                doc.used.add(best_lemma[i])
                doc.matched.append((tok.word, best_lemma[i]))
                if p.trigger:
                    doc.trigger_words.append(tok.word)
        return sorted(acc.values(), key=lambda d: (-d.score, d.doc))

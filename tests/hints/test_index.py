"""BM25F ranking: rare words weigh more, trigger lemmas beat body lemmas, each lemma counts once."""

from __future__ import annotations

from hints.index import Bm25Index, Document, Weights
from hints.lemmas import Token


def toks(*words: str) -> list[Token]:
    return [Token(w, frozenset({w})) for w in words]


def test_rare_word_outranks_common_word() -> None:
    docs = [Document(toks("card", "lose")), Document(toks("card", "limit")), Document(toks("card", "pin"))]
    index = Bm25Index(docs)
    common = index.score(toks("card"))
    rare = index.score(toks("lose"))
    assert {d.doc for d in common} == {0, 1, 2}
    assert [d.doc for d in rare] == [0]
    assert rare[0].score > common[0].score


def test_trigger_field_outweighs_body() -> None:
    docs = [Document(toks("fee"), body=toks("other")), Document(toks("other"), body=toks("fee")),
            Document(toks("x"), body=toks("y"))]
    ranked = Bm25Index(docs).score(toks("fee"))
    assert [d.doc for d in ranked] == [0, 1]
    assert ranked[0].trigger_words == ["fee"] and ranked[1].trigger_words == []


def test_trigger_phrases_count_as_a_set() -> None:
    many = Document(toks("card", "card", "card", "lose"))
    once = Document(toks("card", "block"))
    index = Bm25Index([many, once, Document(toks("z"))], Weights(title=0, body=0))
    by_doc = {d.doc: d.score for d in index.score(toks("card"))}
    assert by_doc[0] == by_doc[1]


def test_each_word_and_lemma_counts_once() -> None:
    index = Bm25Index([Document(toks("lose", "card")), Document(toks("pin"))])
    once = index.score(toks("lose"))[0].score
    twice_same_word = index.score(toks("lose", "lose"))[0].score
    assert twice_same_word == once
    # two different words with the same lemma ("загубив ... загублено") credit the lemma once
    a, b = Token("lost", frozenset({"lose"})), Token("losing", frozenset({"lose"}))
    assert index.score([a, b])[0].score == once


def test_ambiguous_word_matches_through_its_best_lemma() -> None:
    index = Bm25Index([Document(toks("pin")), Document(toks("foam"))])
    word = Token("пін", frozenset({"pin", "foam"}))
    ranked = index.score([word])
    assert {d.doc for d in ranked} == {0, 1}
    assert ranked[0].matched == [("пін", "pin")] or ranked[0].matched == [("пін", "foam")]


def test_no_match() -> None:
    index = Bm25Index([Document(toks("card"))])
    assert index.score(toks("weather")) == [] and index.postings("weather") == ()


def test_scores_do_not_grow_with_collection_size() -> None:
    def unique_word_score(n_docs: int) -> float:
        docs = [Document(toks("lose"))] + [Document(toks(f"w{i}")) for i in range(n_docs - 1)]
        return Bm25Index(docs).score(toks("lose"))[0].score

    w = Weights()
    expected = w.trigger * (w.k1 + 1) / (w.k1 + w.trigger)
    for n in (1, 3, 30, 300):
        assert abs(unique_word_score(n) - expected) < 1e-9

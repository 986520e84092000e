"""Pooling speech segments into one embedding."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from biometrics.errors import NoSpeechError
from biometrics.pooling import SegmentCache, SegmentEncoder
from biometrics.resemblyzer_backend import ResemblyzerEmbedder
from biometrics.scoring import cosine
from biometrics.speech import split_speech
from biometrics.voiceprint import l2_normalize
from tests.biometrics.conftest import with_gaps


class CountingEmbedder:
    """A fake embedder: embeds a segment as [mean, 1, 0, ...] and counts calls."""

    model_id, version, dim = "fake", "1", 4

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def embed(self, pcm16k: np.ndarray) -> np.ndarray:
        with self.lock:
            self.calls += 1
        return l2_normalize(np.array([float(pcm16k.mean()), 1.0, 0.0, 0.0]))


def test_model_tag_includes_pooling() -> None:
    fake = CountingEmbedder()
    assert SegmentEncoder(fake).model.version == "1+seg1"
    assert SegmentEncoder(fake, "concat").model.version == "1+concat"


def test_weighted_mean_and_cache() -> None:
    fake = CountingEmbedder()
    enc = SegmentEncoder(fake)
    short, long = np.full(8000, 1, np.int16), np.full(48000, 3, np.int16)  # 0.5 s and 3 s (capped at 1.6 s)
    expected = l2_normalize(0.5 * fake.embed(short) + 1.6 * fake.embed(long))
    fake.calls = 0
    cache = SegmentCache()
    np.testing.assert_allclose(enc.embed([short, long], cache), expected, atol=1e-6)
    assert fake.calls == 2
    enc.embed([short, long, short], cache)  # only the new third segment is embedded
    assert fake.calls == 3
    with pytest.raises(NoSpeechError):
        enc.embed([np.zeros(0, np.int16)])


def test_concat_pooling_is_one_call() -> None:
    fake = CountingEmbedder()
    SegmentEncoder(fake, "concat").embed([np.ones(100, np.int16), np.ones(50, np.int16)])
    assert fake.calls == 1


def test_real_segments(embedder: ResemblyzerEmbedder, fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    split = split_speech(with_gaps(fsdd_pcm["lucas"][:8], gap_s=0.4))
    seg, cat = SegmentEncoder(embedder), SegmentEncoder(embedder, "concat")
    a = seg.embed(split.segments)
    assert np.array_equal(a, seg.embed(split.segments)) and abs(float(np.linalg.norm(a)) - 1) < 1e-5
    assert cosine(a, cat.embed(split.segments)) > 0.8  # same space, different estimate
    rows = seg.embed_all([split.segments[:4], split.segments[4:]])
    assert rows.shape == (2, 256)

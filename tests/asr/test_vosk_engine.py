"""VoskEngine / VoskStream with the real Korean model, checked against the offline reference decode."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from asr.events import EndOfStream, FinalTranscript, PartialTranscript, SpeechEvent
from asr.offline import decode_offline, load_model
from asr.stream import RecognitionUnavailableError
from asr.vosk_engine import VoskEngine
from media.frame import FRAME_SAMPLES, AudioFrame, Pcm
from media.prompt import load_pcm
from media.vad import UtteranceEnd, VadGate
from tests.support.audio import ko_model_path, make_speech


@dataclass
class Loaded:
    engine: VoskEngine
    errors: dict[str, str]
    bogus: Path


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """One engine for the module: Korean plus a language whose model directory is not a model."""
    bogus = tmp_path_factory.mktemp("bogus-model")
    (bogus / "README").write_text("not a model\n")
    engine = VoskEngine({"ko": ko_model_path(), "xx": bogus}, threads=2)
    errors = engine.load()
    yield Loaded(engine, errors, bogus)
    engine.close()


@pytest.fixture(scope="module")
def engine(loaded: Loaded) -> VoskEngine:
    return loaded.engine


@pytest.fixture(scope="module")
def ref_model():
    return load_model(ko_model_path())


@pytest.fixture(scope="module")
def two_phrases(speech_dir: Path) -> Pcm:
    """1 s silence, phrase, 1 s silence, phrase, 1 s silence at 16 kHz."""
    return load_pcm(speech_dir / "ko_two_16k.wav")


@pytest.fixture(scope="module")
def cut_phrase(tmp_path_factory: pytest.TempPathFactory) -> Pcm:
    """One phrase that stops dead at its last loud sample: no trailing silence for the VAD to end on."""
    path = make_speech(tmp_path_factory.mktemp("cut") / "hello_16k.wav", phrases=(("안녕하세요", 150),),
                       rate=16000)
    pcm = load_pcm(path)
    loud = np.nonzero(np.abs(pcm.astype(np.int32)) > 300)[0]
    return pcm[: int(loud[-1]) + 1]


@pytest.fixture(scope="module")
def two_ref(ref_model, two_phrases: Pcm) -> list[str]:
    texts = decode_offline(ref_model, two_phrases, VadGate(2, 300, 300)).texts
    assert len(texts) == 2, f"reference should have one final per phrase: {texts}"
    return texts


def reference(model, pcm: Pcm) -> list[str]:
    return decode_offline(model, pcm, VadGate(2, 300, 300)).texts


async def run_stream(engine: VoskEngine, pcm: Pcm, offset: float = 0.0, finish_gate: bool = True,
                     pace: int = 10, realtime: bool = False) -> tuple[list[SpeechEvent], int]:
    """Feed ``pcm`` VAD-gated, in bursts of ``pace`` frames; returns the events and the frames fed.

    With ``realtime`` the audio that passes the gate arrives at the speed of a call (as RTP
    would deliver it), so the decoder sees it in small pieces; otherwise as fast as possible.
    """
    stream = engine.open_stream("caller", "ko")

    async def collect() -> list[SpeechEvent]:
        return [ev async for ev in stream]

    task = asyncio.create_task(collect())
    gate = VadGate(2, 300, 300)
    fed = 0

    def route(outs: list) -> None:
        nonlocal fed
        for out in outs:
            if isinstance(out, UtteranceEnd):
                stream.flush()
            else:
                fed += 1
                stream.push_frame(out)

    burst_start = 0
    for i in range(pcm.size // FRAME_SAMPLES):
        route(gate.push(AudioFrame("caller", round(offset + i * 0.02, 3),
                                   pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])))
        if i % pace == pace - 1:
            await asyncio.sleep((fed - burst_start) * 0.02 if realtime else 0.001)
            burst_start = fed
    if finish_gate:
        route(gate.finish("caller"))
    stream.end_input()
    events = await asyncio.wait_for(task, 60)
    return events, fed


def finals(events: list[SpeechEvent]) -> list[FinalTranscript]:
    return [e for e in events if isinstance(e, FinalTranscript)]


# -- loading ----------------------------------------------------------------------------


def test_load_reports_a_bogus_model_without_raising(loaded):
    assert set(loaded.errors) == {"xx"}
    assert str(loaded.bogus) in loaded.errors["xx"]
    assert loaded.errors["xx"].startswith("cannot load")
    assert loaded.engine.languages == ["ko"]


def test_only_bogus_model_loads_nothing(tmp_path):
    eng = VoskEngine({"uk": tmp_path / "missing"}, threads=1)
    try:
        errors = eng.load()
        assert list(errors) == ["uk"]
        assert eng.languages == []
        with pytest.raises(RecognitionUnavailableError) as err:
            eng.open_stream("caller", "uk")
        assert err.value.language == "uk"
    finally:
        eng.close()


@pytest.mark.parametrize("language", ["xx", "en"])
def test_open_stream_for_unloaded_language_raises(engine, language):
    with pytest.raises(RecognitionUnavailableError) as err:
        engine.open_stream("caller", language)
    assert err.value.language == language
    assert err.value.reason == "no model loaded for this language"
    assert repr(language) in str(err.value)


# -- streaming ------------------------------------------------------------------------------


async def test_stream_finals_equal_offline_decode(engine, two_ref, two_phrases):
    expected = two_ref
    events, _ = await run_stream(engine, two_phrases)
    assert isinstance(events[-1], EndOfStream)
    assert sum(isinstance(e, EndOfStream) for e in events) == 1
    assert [f.text for f in finals(events)] == expected
    assert all(e.leg == "caller" for e in events)


async def test_partials_precede_each_final(engine, two_ref, two_phrases):
    events, _ = await run_stream(engine, two_phrases, realtime=True)
    kinds = ["P" if isinstance(e, PartialTranscript) else "F" if isinstance(e, FinalTranscript) else "E"
             for e in events]
    assert kinds.count("F") == 2
    assert kinds[0] == "P", kinds
    # Every final closes an utterance whose hypothesis was streamed first.
    segments = "".join(kinds[:-1]).split("F")
    assert all(seg and set(seg) == {"P"} for seg in segments[:-1]), kinds
    partials = [e for e in events if isinstance(e, PartialTranscript)]
    assert all(p.text for p in partials)
    assert all(a.text != b.text for a, b in itertools.pairwise(partials))  # only changes are sent
    # Small live batches decode to the same finals as one big batch and as the offline reference.
    assert [f.text for f in finals(events)] == two_ref


async def test_end_input_flushes_the_last_words(engine, ref_model, cut_phrase):
    expected = reference(ref_model, cut_phrase)
    assert len(expected) == 1, expected
    gate = VadGate(2, 300, 300)
    for i in range(cut_phrase.size // FRAME_SAMPLES):
        gate.push(AudioFrame("caller", i * 0.02, cut_phrase[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]))
    assert gate.active, "the audio must end inside an utterance for this test to mean anything"
    events, _ = await run_stream(engine, cut_phrase, finish_gate=False)  # no flush, no trailing silence
    assert [f.text for f in finals(events)] == expected
    assert isinstance(events[-1], EndOfStream)
    assert isinstance(events[-2], FinalTranscript)


async def test_word_times_are_call_relative_and_stats_count(engine, two_phrases):
    base, _ = await run_stream(engine, two_phrases)
    before_audio, before_cpu = engine.stats.audio_s, engine.stats.cpu_s
    shifted, fed = await run_stream(engine, two_phrases, offset=100.0)
    # EngineStats: exactly the audio that passed the gate was decoded, at a real CPU cost.
    assert fed > 0
    assert engine.stats.audio_s - before_audio == pytest.approx(fed * 0.02)
    assert engine.stats.cpu_s > before_cpu
    assert engine.stats.rtf > 0
    assert engine.stats.failures == 0
    fb, fs = finals(base), finals(shifted)
    assert [f.text for f in fs] == [f.text for f in fb]
    duration = two_phrases.size / 16000
    for f0, f1 in zip(fb, fs, strict=True):
        assert f1.words, f1
        assert all(100.0 <= w.start <= w.end <= 100.0 + duration for w in f1.words)
        assert [w.word for w in f1.words] == [w.word for w in f0.words]
        assert np.allclose([w.start for w in f1.words], [w.start + 100 for w in f0.words], atol=0.002)
        assert np.allclose([w.end for w in f1.words], [w.end + 100 for w in f0.words], atol=0.002)
        assert (f1.start, f1.end) == (f1.words[0].start, f1.words[-1].end)
        assert 100.0 < f1.audio_end <= 100.0 + duration + 0.02
    # The silence between the phrases is gated out before decoding, yet the call clock keeps it:
    # the second utterance starts well after the first ends, as in the audio (1 s gap).
    first, second = fb
    assert first.start >= 0.6
    assert second.start - first.end >= 0.6



async def test_a_reused_recognizer_gives_the_same_words_and_call_times(tmp_path):
    """Streams reuse pooled recognizers (reset between calls); results must not depend on it."""
    from asr.events import FinalTranscript as _Final
    from asr.vosk_engine import VoskEngine as _Engine
    from media.frame import FRAME_SAMPLES as _N
    from media.frame import AudioFrame as _Frame
    from media.prompt import load_pcm as _load
    from media.vad import UtteranceEnd as _End
    from media.vad import VadGate as _Gate
    from tests.support.audio import ko_model_path as _model
    from tests.support.audio import make_speech as _speech

    pcm = _load(_speech(tmp_path / "s.wav", rate=16000))
    engine = _Engine({"ko": _model()}, threads=1)
    assert engine.load() == {}

    async def one_call() -> list[tuple[str, float, float]]:
        stream, gate, finals = engine.open_stream("caller", "ko"), _Gate(2, 300, 300), []
        for i in range(pcm.size // _N):
            for out in gate.push(_Frame("caller", round(i * 0.02, 2), pcm[i * _N:(i + 1) * _N])):
                stream.flush() if isinstance(out, _End) else stream.push_frame(out)
        stream.end_input()
        async for ev in stream:
            if isinstance(ev, _Final):
                finals.append((ev.text, ev.start, ev.end))
        return finals

    first = await one_call()
    second = await one_call()  # same (only) recognizer, reset in between
    engine.close()
    assert first and second == first
    assert len(engine._idle["ko"]) == 1

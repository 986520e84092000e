"""Vosk (Kaldi) streaming recognition: one shared model per language, one recognizer per leg."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from array import array
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vosk

from asr.events import EndOfStream, FinalTranscript, PartialTranscript, SpeechEvent, Word
from asr.stream import RecognitionUnavailableError
from media.frame import FRAME_MS, SAMPLE_RATE, AudioFrame

log = logging.getLogger("hotline.asr")
vosk.SetLogLevel(-1)

_FLUSH = object()
_END = object()


@dataclass(slots=True)
class EngineStats:
    """Totals for the real-time-factor metric."""

    audio_s: float = 0.0
    cpu_s: float = 0.0
    failures: int = 0

    @property
    def rtf(self) -> float:
        """Decoder CPU seconds per second of audio."""
        return self.cpu_s / self.audio_s if self.audio_s else 0.0


class PooledRecognizer:
    """A ``KaldiRecognizer`` and the audio it decoded before (Vosk's word times keep counting across resets)."""

    def __init__(self, rec: Any, language: str) -> None:
        self.rec = rec
        self.language = language
        self.base_s = 0.0

    def reset(self, fed_s: float) -> None:
        """Forget the stream; word times of the next one start after ``fed_s`` more seconds."""
        self.rec.Reset()
        self.base_s += fed_s


class VoskEngine:
    """Loads models once and opens per-leg streams that decode in a shared thread pool."""

    def __init__(self, models: dict[str, Path], threads: int = 0, partials: bool = True) -> None:
        self.model_paths = models
        self.threads = threads or os.cpu_count() or 1
        self.partials = partials
        self.stats = EngineStats()
        self._models: dict[str, vosk.Model] = {}
        self._idle: dict[str, list[PooledRecognizer]] = {}
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="vosk")

    def load(self) -> dict[str, str]:
        """Load every model; returns {language: error} for those that failed."""
        errors: dict[str, str] = {}
        for lang, path in self.model_paths.items():
            try:
                self._models[lang] = vosk.Model(str(path))
            except Exception as exc:
                errors[lang] = f"cannot load {path}: {exc}"
        return errors

    @property
    def languages(self) -> list[str]:
        """Languages with a loaded model."""
        return sorted(self._models)

    def open_stream(self, leg: str, language: str) -> VoskStream:
        """A new recognizer stream for one call leg (its recognizer is taken from the pool off the loop)."""
        if language not in self._models:
            raise RecognitionUnavailableError(language, "no model loaded for this language")
        return VoskStream(leg, language, self)

    def acquire(self, language: str) -> PooledRecognizer:
        """An idle recognizer for ``language``, or a new one. Blocking: call it in the pool."""
        idle = self._idle.setdefault(language, [])
        try:
            return idle.pop()
        except IndexError:
            rec = vosk.KaldiRecognizer(self._models[language], SAMPLE_RATE)
            rec.SetWords(True)
            return PooledRecognizer(rec, language)

    def release(self, pooled: PooledRecognizer) -> None:
        """Return a recognizer that was reset after its stream ended.

        Reuse matters: a fresh recognizer decodes several times slower until its
        decoding-graph cache is warm, and the results are the same either way.
        """
        self._idle.setdefault(pooled.language, []).append(pooled)

    def warm(self, pcm: bytes, per_language: int = 0) -> None:
        """Decode ``pcm`` with ``per_language`` recognizers (default: one per thread) and pool them. Blocking."""
        for lang in self._models:
            for pooled in [self.acquire(lang) for _ in range(per_language or self.threads)]:
                pooled.rec.AcceptWaveform(pcm)
                pooled.rec.FinalResult()
                pooled.reset(len(pcm) / 2 / SAMPLE_RATE)
                self.release(pooled)

    def run(self, fn: Any, *args: Any) -> asyncio.Future[Any]:
        """Run decoder work in the pool."""
        return asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        """Stop the pool (pending work finishes)."""
        self._pool.shutdown(wait=True, cancel_futures=False)


class VoskStream:
    """A :class:`asr.stream.RecognizeStream` backed by one ``KaldiRecognizer``."""

    def __init__(self, leg: str, language: str, engine: VoskEngine) -> None:
        self.leg = leg
        self.language = language
        self._pooled: PooledRecognizer | None = None
        self._engine = engine
        self._pending: list[object] = []
        self._wake = asyncio.Event()
        self._events: asyncio.Queue[SpeechEvent] = asyncio.Queue()
        self._times = array("d")  # call timestamp of every frame fed, by index
        self._last_partial = ""
        self._ended = False
        self._task = asyncio.get_running_loop().create_task(self._worker(), name=f"vosk-{leg}")

    def push_frame(self, frame: AudioFrame) -> None:
        """Queue one frame."""
        if not self._ended:
            self._pending.append(frame)
            self._wake.set()

    def flush(self) -> None:
        """Finalize the current utterance."""
        if not self._ended:
            self._pending.append(_FLUSH)
            self._wake.set()

    def end_input(self) -> None:
        """Finalize and close."""
        if not self._ended:
            self._ended = True
            self._pending.append(_END)
            self._wake.set()

    async def __aiter__(self) -> AsyncIterator[SpeechEvent]:
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, EndOfStream):
                return

    async def _worker(self) -> None:
        try:
            self._pooled = await self._engine.run(self._engine.acquire, self.language)
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch, self._pending = self._pending, []
                if not batch:
                    continue
                for frame in batch:
                    if isinstance(frame, AudioFrame):
                        self._times.append(frame.timestamp)
                results = await self._engine.run(self._decode, batch)
                for kind, raw in results:
                    self._publish(kind, raw)
                if batch[-1] is _END:
                    pooled = self._pooled
                    await self._engine.run(pooled.reset, len(self._times) * FRAME_MS / 1000)
                    self._engine.release(pooled)
                    break
        except Exception:
            self._engine.stats.failures += 1
            log.exception("recognizer for leg %s failed; recognition stops for this leg", self.leg)
        finally:
            self._events.put_nowait(EndOfStream(self.leg))

    def _decode(self, batch: list[object]) -> list[tuple[str, dict[str, Any]]]:
        """Runs in the pool thread: feed audio, collect raw Vosk results.

        Audio goes in one 20 ms frame per call, however frames were batched:
        Kaldi's online i-vector and endpointing depend on chunk boundaries, so a
        fixed chunk keeps live results identical to an offline decode.
        """
        t0 = time.thread_time()
        assert self._pooled is not None
        rec = self._pooled.rec
        out: list[tuple[str, dict[str, Any]]] = []
        fed = 0
        pending_partial = False
        for item in batch:
            if isinstance(item, AudioFrame):
                fed += 1
                if rec.AcceptWaveform(item.pcm_bytes()):
                    out.append(("final", json.loads(rec.Result())))
                    pending_partial = False
                else:
                    pending_partial = True
                continue
            out.append(("final", json.loads(rec.FinalResult())))
            pending_partial = False
        if pending_partial and self._engine.partials:
            out.append(("partial", json.loads(rec.PartialResult())))
        stats = self._engine.stats
        stats.cpu_s += time.thread_time() - t0
        stats.audio_s += fed * FRAME_MS / 1000
        return out

    def _call_time(self, t: float) -> float:
        if not self._times:
            return 0.0
        t -= self._pooled.base_s if self._pooled is not None else 0.0
        idx = min(max(int(t * 1000 // FRAME_MS), 0), len(self._times) - 1)
        return self._times[idx] + (t - idx * FRAME_MS / 1000)

    def _publish(self, kind: str, raw: dict[str, Any]) -> None:
        if kind == "partial":
            text = raw.get("partial", "")
            if text and text != self._last_partial:
                self._last_partial = text
                self._events.put_nowait(PartialTranscript(self.leg, text))
            return
        self._last_partial = ""
        text = raw.get("text", "").strip()
        if not text:
            return
        words = [
            Word(w["word"], round(self._call_time(w["start"]), 3), round(self._call_time(w["end"]), 3),
                 float(w.get("conf", 1.0)))
            for w in raw.get("result", [])
        ]
        start = words[0].start if words else 0.0
        end = words[-1].end if words else 0.0
        conf = sum(w.conf for w in words) / len(words) if words else 0.0
        audio_end = self._times[-1] + FRAME_MS / 1000 if self._times else 0.0
        self._events.put_nowait(FinalTranscript(self.leg, text, start, end, round(conf, 4), words, audio_end))

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


class VoskEngine:
    """Loads models once and opens per-leg streams that decode in a shared thread pool."""

    def __init__(self, models: dict[str, Path], threads: int = 0, partials: bool = True) -> None:
        self.model_paths = models
        self.threads = threads or os.cpu_count() or 1
        self.partials = partials
        self.stats = EngineStats()
        self._models: dict[str, vosk.Model] = {}
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
        """A new recognizer stream for one call leg."""
        model = self._models.get(language)
        if model is None:
            raise RecognitionUnavailableError(language, "no model loaded for this language")
        rec = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        rec.SetWords(True)
        return VoskStream(leg, rec, self)

    def run(self, fn: Any, *args: Any) -> asyncio.Future[Any]:
        """Run decoder work in the pool."""
        return asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        """Stop the pool (pending work finishes)."""
        self._pool.shutdown(wait=True, cancel_futures=False)


class VoskStream:
    """A :class:`asr.stream.RecognizeStream` backed by one ``KaldiRecognizer``."""

    def __init__(self, leg: str, recognizer: Any, engine: VoskEngine) -> None:
        self.leg = leg
        self._rec = recognizer
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
        out: list[tuple[str, dict[str, Any]]] = []
        fed = 0
        pending_partial = False
        for item in batch:
            if isinstance(item, AudioFrame):
                fed += 1
                if self._rec.AcceptWaveform(item.pcm_bytes()):
                    out.append(("final", json.loads(self._rec.Result())))
                    pending_partial = False
                else:
                    pending_partial = True
                continue
            out.append(("final", json.loads(self._rec.FinalResult())))
            pending_partial = False
        if pending_partial and self._engine.partials:
            out.append(("partial", json.loads(self._rec.PartialResult())))
        stats = self._engine.stats
        stats.cpu_s += time.thread_time() - t0
        stats.audio_s += fed * FRAME_MS / 1000
        return out

    def _call_time(self, t: float) -> float:
        if not self._times:
            return 0.0
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

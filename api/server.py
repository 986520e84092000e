"""Compose and run Hotline: store, recognition, SIP thread, RTP and the HTTP API in one process."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from api.app import create_app
from api.bus import EventBus
from api.callservice import CallService
from api.config import Settings
from api.context import AppContext
from api.metrics import Metrics
from api.store import Store
from asr.models import ModelError, resolve_model
from asr.overlay import OverlayError, with_dither
from asr.vosk_engine import VoskEngine
from media.ports import PortAllocator
from media.prompt import Prompt, PromptError
from voice.call import SipCall
from voice.stack import SipStack

if TYPE_CHECKING:
    from api.voiceprints import Voiceprints

log = logging.getLogger("hotline")


def build_engine(settings: Settings) -> tuple[VoskEngine | None, str | None]:
    """Load recognition models; returns (engine or None, why unavailable)."""
    asr = settings.asr
    if not asr.enabled:
        return None, "recognition disabled in config"
    wanted = dict(asr.languages)
    if asr.model:
        wanted.setdefault(asr.language, asr.model)
    if not wanted:
        return None, "no recognition model configured"
    paths: dict[str, Path] = {}
    problems: list[str] = []
    for lang, name in wanted.items():
        try:
            paths[lang] = resolve_model(name, asr.cache_dir)
            if asr.feature_dither is not None:
                paths[lang] = with_dither(paths[lang], asr.feature_dither, asr.cache_dir / ".overlays")
        except (ModelError, OverlayError) as exc:
            problems.append(f"{lang}: {exc}")
    engine = VoskEngine(paths, asr.threads, asr.partials) if paths else None
    if engine is not None:
        for lang, err in engine.load().items():
            problems.append(f"{lang}: {err}")
        if not engine.languages:
            engine = None
    note = "; ".join(problems) or None
    for p in problems:
        log.warning("speech recognition unavailable for %s: calls are still answered", p)
    return engine, note


def load_greeting(settings: Settings) -> Prompt | None:
    """The greeting prompt, or None (with a warning) when it cannot be used."""
    path = settings.media.greeting
    if path is None:
        return None
    try:
        return Prompt(Path(path))
    except PromptError as exc:
        log.warning("greeting disabled: %s", exc)
        return None


def build_voiceprints(settings: Settings, store: Store) -> tuple[Voiceprints | None, str | None]:
    """The voiceprint service, or None with the reason (calls and the API keep working without it)."""
    bio = settings.biometrics
    if not bio.enabled:
        return None, "disabled in config (biometrics.enabled)"
    from api.voiceprints import Voiceprints
    from biometrics.crypto import TemplateCipher
    from biometrics.errors import BiometricsError
    from biometrics.service import VoiceprintEngine

    try:
        import torch

        torch.set_num_threads(1)  # embeddings share the machine with the speech recognizers
        cipher = TemplateCipher.from_sources(bio.key_file, bio.key_env)
        engine = VoiceprintEngine.from_settings(bio)
    except (BiometricsError, OSError) as exc:
        log.warning("voice biometrics unavailable: %s", exc)
        return None, str(exc)
    log.info("voice biometrics: %s, template key id %s", engine.model, cipher.key_id)
    others = {k: n for k, n in store.template_key_ids().items() if k != cipher.key_id}
    for key, count in others.items():
        log.error("%d voiceprint template(s) were sealed with key id %s, but the loaded key has id %s: they cannot "
                  "be opened (verification reports not_enrolled) until the right key is configured",
                  count, key, cipher.key_id)
    return Voiceprints(bio, engine, cipher, store), None


class Hotline:
    """A running Hotline instance."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.store.url)
        self.ctx: AppContext | None = None
        self.stack: SipStack | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._warmup: asyncio.Future[None] | None = None

    async def start(self) -> AppContext:
        """Migrate the store, load models and prompts, start SIP."""
        s = self.settings
        await asyncio.to_thread(self.store.migrate)
        engine, note = await asyncio.to_thread(build_engine, s)
        ports = PortAllocator(s.media.rtp_port_min, s.media.rtp_port_max)
        voiceprints, vp_note = await asyncio.to_thread(build_voiceprints, s, self.store)
        ctx = AppContext(s, self.store, EventBus(), Metrics(), ports, engine, note, load_greeting(s), voiceprints,
                         vp_note)
        self.ctx = ctx
        self.stack = SipStack(s.sip, asyncio.get_running_loop(), self._on_call)
        self.stack.start()
        if engine is not None and ctx.greeting is not None:  # warm a recognizer per thread, in the background
            speech = b"".join(f.tobytes() for f in ctx.greeting.frames)
            self._warmup = asyncio.get_running_loop().run_in_executor(None, engine.warm, speech)
        log.info("SIP listening on %s:%d (udp%s); RTP %s:%d-%d; recognition: %s", s.sip.host, s.sip.port,
                 "+tcp" if s.sip.tcp else "", s.media.rtp_host, s.media.rtp_port_min, s.media.rtp_port_max,
                 ", ".join(engine.languages) if engine else f"unavailable ({note})")
        return ctx

    def _on_call(self, call: SipCall) -> None:
        assert self.ctx is not None
        task = asyncio.get_running_loop().create_task(CallService(self.ctx, call).run())
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def stop(self) -> None:
        """Hang up active calls, drain recognition, stop SIP."""
        if self.ctx is not None:
            for svc in list(self.ctx.active.values()):
                svc.call.hangup()
                svc.call.events.put_nowait(_shutdown_event())
        if self._calls:
            await asyncio.wait(self._calls, timeout=30)
        if self.stack is not None:
            self.stack.stop()
        if self.ctx is not None and self.ctx.engine is not None:
            self.ctx.engine.close()
        if self.ctx is not None and self.ctx.voiceprints is not None:
            self.ctx.voiceprints.close()
        self.store.close()

    async def serve(self) -> None:
        """Run SIP and HTTP until SIGINT/SIGTERM."""
        ctx = await self.start()
        config = uvicorn.Config(create_app(ctx), host=self.settings.http.host, port=self.settings.http.port,
                                log_level="warning", lifespan="off", access_log=False)
        server = uvicorn.Server(config)  # uvicorn turns SIGINT/SIGTERM into a graceful exit
        log.info("HTTP API on http://%s:%d", self.settings.http.host, self.settings.http.port)
        try:
            await server.serve()
        finally:
            await self.stop()


def _shutdown_event() -> object:
    from voice.events import RemoteHangup

    return RemoteHangup("shutdown")

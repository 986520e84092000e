"""Compose and run Hotline: store, recognition, SIP thread, RTP and the HTTP API in one process."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from app.config import Settings
from app.httpserver import HttpServer, serve_until_signal
from asr.models import ModelError, resolve_model
from asr.overlay import OverlayError, with_dither
from asr.vosk_engine import VoskEngine
from callcenter.announce import AnnouncementError, Announcer
from callcenter.router import Router
from calls.bus import EventBus
from calls.context import AppContext
from calls.service import CallService
from core.metrics import Metrics
from hints import HintEngine, HintsError
from media.ports import PortAllocator
from media.prompt import Prompt, PromptError
from store.agents import load_board
from store.store import Store
from voice.call import SipCall
from voice.registrar import Binding, Credentials, Registrar
from voice.stack import SipStack
from web.app import create_app
from webhooks.worker import WebhookWorker, start_webhooks

if TYPE_CHECKING:
    from verification.voiceprints import Voiceprints

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
    return load_prompt(settings.media.greeting, "greeting")


def load_prompt(path: Path | None, what: str) -> Prompt | None:
    """A prompt, or None (with a warning) when it is off or cannot be used."""
    if path is None:
        return None
    try:
        return Prompt(Path(path))
    except PromptError as exc:
        log.warning("%s disabled: %s", what, exc)
        return None


def build_voiceprints(settings: Settings, store: Store) -> tuple[Voiceprints | None, str | None]:
    """The voiceprint service, or None with the reason (calls and the API keep working without it)."""
    bio = settings.biometrics
    if not bio.enabled:
        return None, "disabled in config (biometrics.enabled)"
    from biometrics.crypto import TemplateCipher
    from biometrics.errors import BiometricsError
    from biometrics.service import VoiceprintEngine
    from verification.voiceprints import Voiceprints

    try:
        import torch

        torch.set_num_threads(1)  # embeddings share the machine with the speech recognizers
        cipher = TemplateCipher.from_sources(bio.key_file, bio.key_env)
        engine = VoiceprintEngine.from_settings(bio)
    except (BiometricsError, OSError) as exc:
        log.warning("voice biometrics unavailable: %s", exc)
        return None, str(exc)
    log.info("voice biometrics: %s, template key id %s", engine.model, cipher.key_id)
    others = {k: n for k, n in store.voiceprints.key_ids().items() if k != cipher.key_id}
    for key, count in others.items():
        log.error("%d voiceprint template(s) were sealed with key id %s, but the loaded key has id %s: they cannot "
                  "be opened (verification reports not_enrolled) until the right key is configured",
                  count, key, cipher.key_id)
    return Voiceprints(bio, engine, cipher, store), None


async def expire_replay_prints(voiceprints: Voiceprints, every_s: float = 6 * 3600) -> None:
    """Delete expired call fingerprints now and every ``every_s`` (``biometrics.replay_keep_days``)."""
    while True:
        try:
            expired = await voiceprints.replay.expire()
            if expired:
                log.info("replay fingerprints of %d call(s) expired", expired)
        except Exception as exc:  # a database outage: try again at the next round
            log.warning("replay fingerprints not expired this round: %s", exc)
        await asyncio.sleep(every_s)


class Hotline:
    """A running Hotline instance."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.store.url, settings.store.spill_path, settings.store.retry_s)
        self.ctx: AppContext | None = None
        self.stack: SipStack | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._warmup: asyncio.Future[None] | None = None
        self.webhooks: WebhookWorker | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    async def start(self) -> AppContext:
        """Migrate the store, load models and prompts, start SIP."""
        s = self.settings
        await asyncio.to_thread(self.store.migrate)
        await asyncio.to_thread(self.store.restore_backlog)  # writes a database outage kept from the last run
        engine, note = await asyncio.to_thread(build_engine, s)
        ports = PortAllocator(s.media.rtp_port_min, s.media.rtp_port_max)
        voiceprints, vp_note = await asyncio.to_thread(build_voiceprints, s, self.store)
        ctx = AppContext(s, self.store, EventBus(), Metrics(), ports, engine, note, load_greeting(s), voiceprints,
                         vp_note)
        self.ctx = ctx
        if s.routing.greeting_text:
            await self._spoken_greeting(ctx)
        self.webhooks = start_webhooks(s.webhooks, self.store)  # outbox delivery (webhooks/worker.py)
        if voiceprints is not None:
            self._housekeeping = asyncio.get_running_loop().create_task(expire_replay_prints(voiceprints))
        load_board(self.store.agents, ctx.board)
        self._wire_agents(ctx)
        self.stack = SipStack(s.sip, asyncio.get_running_loop(), self._on_call, ctx.registrar,
                              self._on_registration)
        ctx.sip = self.stack
        self.stack.start()
        if ctx.router is not None:
            ctx.router.start()
        if engine is not None and ctx.greeting is not None:  # warm a recognizer per thread, in the background
            speech = b"".join(f.tobytes() for f in ctx.greeting.frames)
            self._warmup = asyncio.get_running_loop().run_in_executor(None, engine.warm, speech)
        log.info("SIP listening on %s:%d (udp%s); RTP %s:%d-%d; recognition: %s", s.sip.host, s.sip.port,
                 "+tcp" if s.sip.tcp else "", s.media.rtp_host, s.media.rtp_port_min, s.media.rtp_port_max,
                 ", ".join(engine.languages) if engine else f"unavailable ({note})")
        return ctx

    async def _spoken_greeting(self, ctx: AppContext) -> None:
        """``routing.greeting_text`` spoken by espeak-ng replaces the greeting file (kept when it fails)."""
        r = self.settings.routing
        assert r.greeting_text is not None
        try:
            ctx.greeting = await Announcer(r.announce_cache_dir, {}).prompt(r.greeting_text, r.greeting_voice)
            log.info("greeting: routing.greeting_text spoken with voice %s (%.1f s)", r.greeting_voice,
                     ctx.greeting.duration_s)
        except AnnouncementError as exc:
            log.warning("greeting_text not used (%s); keeping media.greeting", exc)

    def _wire_agents(self, ctx: AppContext) -> None:
        """Registrar with the agents' SIP credentials (reloaded when agents change), router, hold music."""
        s = self.settings
        creds = Credentials()
        ctx.registrar = Registrar(s.sip, creds)

        known: set[str] = set()

        def reload() -> None:
            all_creds = self.store.agents.credentials()
            wanted = {u: ha1 for u, (ha1, realm) in all_creds.items() if realm == s.sip.realm}
            for user in known - set(wanted):  # removed or renamed: their phones lose their bindings too
                creds.remove(user)
                assert ctx.registrar is not None
                ctx.registrar.unregister(user)
            for user, ha1 in wanted.items():
                creds.set(user, ha1)
            known.clear()
            known.update(wanted)
            stale = [u for u, (_, realm) in all_creds.items() if realm != s.sip.realm]
            if stale:
                log.warning("agents %s have passwords set for another SIP realm; set their passwords again "
                            "(realm is now %r)", ", ".join(sorted(stale)), s.sip.realm)

        reload()
        ctx.on_agents_changed = reload
        if s.hints.enabled:
            try:
                ctx.hints = HintEngine.load(s.hints)
            except HintsError as exc:
                log.warning("whispered hints unavailable: %s", exc)
        if s.routing.enabled:
            ctx.router = Router(s.routing, ctx.board)
            ctx.moh = load_prompt(s.routing.moh_file, "music on hold")
            if s.routing.announce_every_s:
                ctx.announcer = Announcer(s.routing.announce_cache_dir, {"uk": "uk", "ru": "ru", "en": "en"})

    def _on_registration(self, username: str, bound: bool, binding: Binding | None) -> None:
        assert self.ctx is not None
        agent = self.ctx.board.registered(username, bound)
        log.info("agent phone %s %s%s", username, "registered" if bound else "unregistered",
                 f" at {binding.host}:{binding.port}/{binding.transport}" if binding else "")
        if agent is None:
            log.warning("binding for %s, who is not an agent", username)

    def _on_call(self, call: SipCall) -> None:
        assert self.ctx is not None
        task = asyncio.get_running_loop().create_task(CallService(self.ctx, call).run())
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def stop(self) -> None:
        """Hang up active calls, drain recognition, stop SIP."""
        if self.ctx is not None:
            for svc in list(self.ctx.active.values()):
                svc.end("shutdown")
        if self._calls:
            await asyncio.wait(self._calls, timeout=30)
        if self.ctx is not None and self.ctx.router is not None:
            self.ctx.router.stop()
        if self.stack is not None:
            self.stack.stop()
        if self.ctx is not None and self.ctx.engine is not None:
            self.ctx.engine.close()
        if self.ctx is not None and self.ctx.voiceprints is not None:
            self.ctx.voiceprints.close()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        if self.webhooks is not None:
            await self.webhooks.stop()
        self.store.close()

    async def serve(self) -> None:
        """Run SIP and HTTP until SIGINT/SIGTERM."""
        ctx = await self.start()
        http = self.settings.http
        config = uvicorn.Config(create_app(ctx, self.settings.console, http), host=http.host, port=http.port,
                                log_level="warning", lifespan="off", access_log=False, proxy_headers=True,
                                forwarded_allow_ips=",".join(http.trusted_proxies) or "")
        log.info("HTTP API on http://%s:%d", self.settings.http.host, self.settings.http.port)
        await serve_until_signal(HttpServer(config), self.stop)  # SIGINT/SIGTERM: HTTP stops, then self.stop()

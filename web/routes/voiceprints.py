"""Voiceprint enrolment, status, deletion and back-office verification (customers: web.routes.profile)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, Response, UploadFile

from biometrics.errors import QualityError, TemplateCryptoError
from calls.context import AppContext
from core.roles import Principal
from media.prompt import PromptError, load_pcm
from store.records import TemplateRecord
from verification.voiceprints import ConsentError, Voiceprints, check_consent
from web.access import require_customer_read
from web.auth import require
from web.deps import context
from web.params import page_limit
from web.uploads import read_upload

router = APIRouter(prefix="/api/v1")
SECURITY = require("security")
READ_STATUS = require("security", "admin", "supervisor", "agent")  # an agent: their call's customer only
VERIFY = require("security", "admin")



def _voiceprints(ctx: AppContext) -> Voiceprints:
    if ctx.voiceprints is None:
        raise HTTPException(503, f"voice biometrics unavailable: {ctx.voiceprint_note or 'disabled in config'}")
    return ctx.voiceprints


async def _require_customer(ctx: AppContext, customer_id: str) -> None:
    if await asyncio.to_thread(ctx.store.customers.get, customer_id) is None:
        raise HTTPException(404, f"no customer {customer_id!r}")


def _status(rec: TemplateRecord | None) -> dict[str, Any]:
    if rec is None:
        return {"enrolled": False}
    return {"enrolled": True, "enrolled_at": rec.enrolled_at.isoformat(), "enrolled_by": rec.enrolled_by,
            "model_id": rec.model_id, "model_version": rec.model_version, "net_speech_s": rec.net_speech_s,
            "consent": rec.consent, "sources": rec.sources}


@router.post("/customers/{customer_id}/voiceprint", status_code=201)
async def enroll(
    request: Request,
    customer_id: str,
    consent: str | None = Form(None, description="JSON: given_by, given_at, method, wording_version"),
    files: list[UploadFile] = File(default_factory=list, description="WAV or FLAC, any rate and channels"),
    call_ids: list[str] = Form(default_factory=list, description="Calls whose caller leg to use"),
    who: Principal = Depends(SECURITY),
) -> dict[str, Any]:
    """Enrol a customer's voiceprint from audio files and/or recorded calls (role: security)."""
    ctx = context(request)
    vp = _voiceprints(ctx)
    await _require_customer(ctx, customer_id)
    try:
        parsed = json.loads(consent) if consent else None
        record = check_consent(parsed if isinstance(parsed, dict) else ({} if parsed else None))
    except json.JSONDecodeError:
        raise HTTPException(422, "consent is not valid JSON") from None
    except ConsentError as exc:
        await vp.audit(who, "enroll", "rejected_consent", customer_id, detail={"reason": str(exc)})
        raise HTTPException(409 if exc.missing else 422, str(exc)) from None
    if not files and not call_ids:
        raise HTTPException(422, "send audio files and/or call_ids")
    pcms = [await read_upload(f) for f in files]
    sources = [f"file:{f.filename}" for f in files]
    for call_id in call_ids:
        pcms.append(await asyncio.to_thread(_call_audio, ctx, call_id))
        sources.append(f"call:{call_id}")
    try:
        rec = await vp.enroll(who, customer_id, pcms, record, sources)
    except QualityError as exc:
        raise HTTPException(422, {"message": "audio not good enough to enrol", "reasons": exc.report.reasons,
                                  "net_speech_s": round(exc.report.net_speech_s, 2)}) from None
    return _status(rec)


def _call_audio(ctx: AppContext, call_id: str) -> Any:
    if ctx.store.calls.get(call_id) is None:
        raise HTTPException(404, f"no call {call_id!r}")
    path = ctx.settings.media.record_dir / f"{call_id}-caller.wav"
    if not path.exists():
        raise HTTPException(422, f"call {call_id} has no caller-leg recording (media.record_calls was off)")
    try:
        return load_pcm(path)
    except PromptError as exc:
        raise HTTPException(422, f"call {call_id} recording unreadable: {exc.reason}") from None


@router.get("/customers/{customer_id}/voiceprint")
async def voiceprint_status(request: Request, customer_id: str, who: Principal = Depends(READ_STATUS)
                            ) -> dict[str, Any]:
    """Enrolled when, by whom, with which model and how much speech (never the template)."""
    ctx = context(request)
    await require_customer_read(ctx, who, customer_id)
    store = ctx.store
    if await store.run(store.customers.get, customer_id) is None:
        raise HTTPException(404, f"no customer {customer_id!r}")
    return _status(await store.run(store.voiceprints.get, customer_id))


@router.delete("/customers/{customer_id}/voiceprint", status_code=204)
async def delete_voiceprint(request: Request, customer_id: str, who: Principal = Depends(SECURITY)) -> Response:
    """Hard-delete the template (role: security)."""
    ctx = context(request)
    if not await _voiceprints(ctx).delete(who, customer_id):
        raise HTTPException(404, f"customer {customer_id!r} has no voiceprint")
    return Response(status_code=204)


@router.post("/voiceprints/verify")
async def verify(
    request: Request,
    customer_id: str = Form(..., min_length=1, max_length=64),
    file: UploadFile = File(..., description="WAV or FLAC"),
    who: Principal = Depends(VERIFY),
) -> dict[str, Any]:
    """Back-office check of a recording against a customer's voiceprint: the decision, its risk and reasons
    for security and admin; the raw score and threshold for security only."""
    ctx = context(request)
    vp = _voiceprints(ctx)
    await _require_customer(ctx, customer_id)
    try:
        outcome = await vp.verify(who, customer_id, await read_upload(file))
    except TemplateCryptoError as exc:
        raise HTTPException(503, f"the customer's voiceprint cannot be opened: {exc}") from None
    body = outcome.to_json()
    shown: tuple[str, ...] = ("decision", "risk", "reasons", "net_speech_s")
    if who.role == "security":
        shown += ("score", "threshold")
    return {k: body[k] for k in shown}


@router.get("/audit", dependencies=[Depends(require("security", "admin"))])
def audit(request: Request, customer_id: str | None = Query(None, max_length=64),
          limit: int = page_limit(100, 1000)) -> dict[str, Any]:
    """Audit entries, newest first."""
    entries = context(request).store.audit.entries(customer_id, limit)
    return {"entries": [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "role": e.role, "action": e.action,
                         "customer_id": e.customer_id, "call_id": e.call_id, "result": e.result,
                         "detail": e.detail} for e in entries]}

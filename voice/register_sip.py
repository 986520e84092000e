"""REGISTER on the sippy thread: a sippy request becomes a :class:`RegisterRequest`, the registrar decides,
and the decision goes back as a stateless response in the tuple form sippy's request callback returns.

Imported lazily from the sippy thread (it imports sippy).
"""

from __future__ import annotations

import logging
from email.utils import formatdate
from typing import Any

from sippy.SipHeader import SipHeader

from voice.registrar import ContactSpec, Decision, RegisterRequest, Registrar

log = logging.getLogger("hotline.sip.auth")


class RegisterParseError(ValueError):
    """A REGISTER header the registrar cannot use."""

    def __init__(self, header: str, reason: str) -> None:
        super().__init__(f"REGISTER {header}: {reason}")
        self.header = header
        self.reason = reason


def _contact(body: Any) -> ContactSpec:
    url = body.getUrl()
    if not url.host:
        raise RegisterParseError("contact", "no host")
    raw_expires = body.address.getParam("expires")
    expires: int | None = None
    if raw_expires is not None:
        try:
            expires = int(raw_expires)
        except ValueError:
            raise RegisterParseError("contact", f"expires={raw_expires!r} is not a number") from None
    default_port = 5061 if str(url.scheme).lower() == "sips" else 5060
    return ContactSpec(uri=str(url), host=str(url.host), port=int(url.port or default_port),
                       transport=url.transport, expires=expires)


def _raw(header: Any) -> str:
    body = header.body
    return body.body if isinstance(body.body, str) else str(body)


def register_request(req: Any) -> RegisterRequest:
    """The registrar's view of a sippy REGISTER; raises :class:`RegisterParseError` for unusable headers."""
    try:
        user = req.getHFBody("to").getUrl().username
    except Exception as exc:
        raise RegisterParseError("to", str(exc)) from exc
    if not user:
        raise RegisterParseError("to", "no user part")
    contacts: list[ContactSpec] = []
    wildcard = False
    for header in req.getHFs("contact"):
        try:
            body = header.getBody()
        except Exception as exc:
            raise RegisterParseError("contact", str(exc)) from exc
        if body.asterisk:
            wildcard = True
        else:
            contacts.append(_contact(body))
    expires: int | None = None
    if req.countHFs("expires") > 0:
        try:
            expires = int(req.getHFBody("expires").getNum())
        except (ValueError, TypeError) as exc:
            raise RegisterParseError("expires", str(exc)) from exc
    (ip, port), transport = req.source or (("", 0), "udp")
    ruri = req.getRURI()
    agent = str(req.getHFBody("user-agent")) if req.countHFs("user-agent") > 0 else ""
    return RegisterRequest(
        aor_user=str(user),
        call_id=str(req.getHFBody("call-id")),
        cseq=int(req.getHFBody("cseq").getCSeqNum()),
        source=(str(ip), int(port)),
        request_uri=str(getattr(ruri, "original_uri", None) or ruri),
        transport=str(transport).lower(),
        contacts=tuple(contacts),
        wildcard=wildcard,
        expires=expires,
        authorization=tuple(_raw(h) for h in req.getHFs("authorization")),
        user_agent=agent[:200],
        method=str(req.getMethod()),
    )


def sip_response(req: Any, decision: Decision) -> Any:
    """The sippy response tuple for ``decision`` (headers appended in order; repeated names allowed)."""
    resp = req.genResponse(decision.code, decision.reason)
    for name, value in decision.headers:
        resp.appendHeader(SipHeader(name=name.lower(), bodys=value))
    return (resp, None, None)


def register_response(req: Any, registrar: Registrar) -> Any:
    """Handle one REGISTER from sippy's request callback."""
    try:
        request = register_request(req)
    except RegisterParseError as exc:
        log.info("bad REGISTER from %s: %s", getattr(req, "source", "?"), exc)
        return sip_response(req, Decision(400, "Bad Request"))
    try:
        decision = registrar.handle(request)
    except Exception:
        log.exception("REGISTER from %s could not be handled", request.source)
        decision = Decision(500, "Server Internal Error")
    if decision.code == 200:  # RFC 3261 §10.3 step 8: a Date lets phones without a clock set theirs
        decision = Decision(200, decision.reason, (*decision.headers, ("Date", formatdate(usegmt=True))),
                            decision.bindings)
    return sip_response(req, decision)

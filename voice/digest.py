"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617 / RFC 7616 with MD5).

Pure functions: parse and build header values, compute the request digest, make and check our own
nonces, compare URIs. A nonce is ``<issue time in ms, hex>.<random salt>.<HMAC-SHA256 tag>``; the tag
covers the issue time, the salt and the client's address, so a nonce is only good from the address it
was issued to, and checking one needs no table. :mod:`voice.digest_auth` judges answers with these
(qop=auth only, nc tracking, Request-URI check). Times are passed in as numbers (seconds of whatever
clock the caller uses), which keeps everything testable.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

ALGORITHM = "MD5"
QOP = "auth"

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_NC = re.compile(r"[0-9a-fA-F]{8}")
_NONCE = re.compile(r"([0-9a-f]{1,16})\.([0-9A-Za-z]{1,64})\.([0-9a-f]{32})")
_REQUIRED = ("username", "realm", "nonce", "uri", "response")
FUTURE_SLACK_S = 1.0  # a nonce dated later than this is not one we issued


class DigestParseError(ValueError):
    """An Authorization header value that is not a usable digest response."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"bad digest credentials ({reason}): {value[:200]!r}")
        self.value = value
        self.reason = reason


class NonceStatus(enum.Enum):
    """What :func:`check_nonce` found."""

    VALID = "valid"
    STALE = "stale"  # ours, correctly signed, but older than its lifetime
    INVALID = "invalid"  # malformed, forged, from another process, or dated in the future


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """The parameters of a ``Digest`` Authorization header (names as in RFC 2617 §3.2.2)."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str | None = None
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None
    opaque: str | None = None


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _quoted(text: str, pos: int, value: str) -> tuple[str, int]:
    """Read a quoted-string starting at the opening quote; returns the unescaped text and the next index."""
    out: list[str] = []
    pos += 1
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
        elif ch == '"':
            return "".join(out), pos + 1
        else:
            out.append(ch)
            pos += 1
    raise DigestParseError(value, "unterminated quoted string")


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """Split a challenge or credentials value into its scheme and ``name=value`` parameters.

    Names are lower-cased; quoted values are unquoted (backslash escapes honoured). A repeated
    parameter is an error.
    """
    text = value.strip()
    match = _TOKEN.match(text)
    if match is None:
        raise DigestParseError(value, "no scheme")
    scheme, pos = match.group(0), match.end()
    params: dict[str, str] = {}
    while True:
        pos = _skip_ws(text, pos)
        while pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
        if pos >= len(text):
            return scheme, params
        name_match = _TOKEN.match(text, pos)
        if name_match is None:
            raise DigestParseError(value, f"expected a parameter name at {pos}")
        name = name_match.group(0).lower()
        pos = _skip_ws(text, name_match.end())
        if pos >= len(text) or text[pos] != "=":
            raise DigestParseError(value, f"parameter {name!r} has no value")
        pos = _skip_ws(text, pos + 1)
        if pos < len(text) and text[pos] == '"':
            param, pos = _quoted(text, pos, value)
        else:
            token = _TOKEN.match(text, pos)
            if token is None:
                raise DigestParseError(value, f"parameter {name!r} has an empty value")
            param, pos = token.group(0), token.end()
        if name in params:
            raise DigestParseError(value, f"parameter {name!r} repeated")
        params[name] = param
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] != ",":
            raise DigestParseError(value, f"expected ',' at {pos}")


def parse_authorization(value: str) -> DigestCredentials:
    """Parse an Authorization (or Proxy-Authorization) value into :class:`DigestCredentials`."""
    scheme, params = parse_params(value)
    if scheme.lower() != "digest":
        raise DigestParseError(value, f"scheme {scheme!r} is not Digest")
    missing = [name for name in _REQUIRED if name not in params]
    if missing:
        raise DigestParseError(value, f"missing {', '.join(missing)}")
    qop = params.get("qop")
    if qop is not None:
        if "cnonce" not in params or "nc" not in params:
            raise DigestParseError(value, "qop without cnonce and nc")
        if not _NC.fullmatch(params["nc"]):
            raise DigestParseError(value, "nc is not 8 hex digits")
    return DigestCredentials(
        username=params["username"],
        realm=params["realm"],
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"],
        algorithm=params.get("algorithm"),
        qop=qop,
        nc=params.get("nc"),
        cnonce=params.get("cnonce"),
        opaque=params.get("opaque"),
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_challenge(realm: str, nonce: str, *, opaque: str | None = None, stale: bool = False) -> str:
    """A WWW-Authenticate value offering MD5 with ``qop="auth"`` (the only answers :class:`DigestAuth` accepts)."""
    parts = [f"realm={_quote(realm)}", f"nonce={_quote(nonce)}"]
    if opaque is not None:
        parts.append(f"opaque={_quote(opaque)}")
    parts += [f"algorithm={ALGORITHM}", f'qop="{QOP}"']
    if stale:
        parts.append("stale=true")
    return "Digest " + ", ".join(parts)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def ha1(username: str, realm: str, password: str) -> str:
    """HA1 = MD5(username:realm:password), lower-case hex: what the credential store keeps."""
    return _md5(f"{username}:{realm}:{password}")


def compute_response(
    ha1_hex: str,
    method: str,
    uri: str,
    nonce: str,
    *,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The request digest of RFC 2617 §3.2.2.1 for ``qop=auth`` or, when ``qop`` is None, RFC 2069 style."""
    ha2 = _md5(f"{method}:{uri}")
    if qop is None:
        return _md5(f"{ha1_hex.lower()}:{nonce}:{ha2}")
    if qop != QOP:
        raise ValueError(f"unsupported qop {qop!r}")
    return _md5(f"{ha1_hex.lower()}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def verify_response(creds: DigestCredentials, ha1_hex: str, method: str) -> bool:
    """True when ``creds.response`` is the digest of ``method`` for the password behind ``ha1_hex``."""
    if not _HEX32.fullmatch(creds.response) or creds.qop not in (None, QOP):
        return False
    expected = compute_response(ha1_hex, method, creds.uri, creds.nonce, qop=creds.qop, nc=creds.nc,
                                cnonce=creds.cnonce)
    return hmac.compare_digest(expected, creds.response.lower())


def _tag(secret: bytes, body: str) -> str:
    return hmac.new(secret, body.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def make_nonce(secret: bytes, now: float, *, client: str, salt: str | None = None) -> str:
    """A nonce issued at ``now`` (seconds, >= 0) to ``client`` (its IP address), signed with ``secret``."""
    if now < 0:
        raise ValueError(f"clock value {now} is negative")
    salt = secrets.token_hex(8) if salt is None else salt
    if not (salt.isascii() and salt.isalnum() and len(salt) <= 64):
        raise ValueError(f"nonce salt {salt!r} must be 1-64 ASCII letters and digits")
    body = f"{int(now * 1000):x}.{salt}"
    return f"{body}.{_tag(secret, f'{body}.{client}')}"


def nonce_issued(nonce: str) -> float | None:
    """The issue time written in a well-formed nonce (not checked: see :func:`check_nonce`)."""
    match = _NONCE.fullmatch(nonce)
    return None if match is None else int(match.group(1), 16) / 1000


def check_nonce(secret: bytes, nonce: str, now: float, ttl_s: float, *, client: str) -> NonceStatus:
    """Whether ``nonce`` was made by :func:`make_nonce` with ``secret`` for ``client``, and is within ``ttl_s``."""
    match = _NONCE.fullmatch(nonce)
    if match is None:
        return NonceStatus.INVALID
    stamp, salt, tag = match.groups()
    issued = int(stamp, 16) / 1000
    if not hmac.compare_digest(_tag(secret, f"{stamp}.{salt}.{client}"), tag):
        return NonceStatus.INVALID
    if issued > now + FUTURE_SLACK_S:
        return NonceStatus.INVALID
    return NonceStatus.STALE if now - issued > ttl_s else NonceStatus.VALID


def _canon_uri(uri: str) -> str:
    """A SIP URI with its case-insensitive parts (scheme, host, parameters) lower-cased."""
    scheme, colon, rest = uri.strip().partition(":")
    if not colon:
        return uri.strip()
    head, semi, params = rest.partition(";")
    user, at, host = head.rpartition("@")
    return f"{scheme.lower()}:{user}{at}{host.lower()}{semi}{params.lower()}"


def same_uri(digest_uri: str, request_uri: str) -> bool:
    """Whether the ``uri`` of an answer names the Request-URI (RFC 2617 §3.2.2.5); case only matters in the user."""
    return digest_uri == request_uri or _canon_uri(digest_uri) == _canon_uri(request_uri)


def make_opaque(secret: bytes) -> str:
    """The opaque value of this process's challenges (constant per secret, reveals nothing about it)."""
    return _tag(secret, "opaque")[:16]


"""voice.digest and voice.digest_auth: header parsing and building, the digest computation, signed nonces
bound to the client, and the judging of answers (qop=auth only, nc never repeated, uri = Request-URI)."""

from __future__ import annotations

import hashlib

import pytest

from voice import digest, digest_auth
from voice.digest import DigestParseError, NonceStatus

SECRET = b"k" * 32


# -- parsing -------------------------------------------------------------------------------------
def test_params_with_quotes_commas_escapes_and_odd_spacing() -> None:
    scheme, params = digest.parse_params(
        'Digest  username="a\\"b,c" ,REALM = hotline,,  uri="sip:x@h;transport=udp" ,nc=00000001'
    )
    assert scheme == "Digest"
    assert params == {"username": 'a"b,c', "realm": "hotline", "uri": "sip:x@h;transport=udp", "nc": "00000001"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('Digest username="open', "unterminated quoted string"),
        ("Digest realm=a, realm=b", "parameter 'realm' repeated"),
        ("Digest realm", "parameter 'realm' has no value"),
        ("Digest realm=a b=c", "expected ',' at 15"),
        ("", "no scheme"),
    ],
)
def test_malformed_params_name_their_reason(value: str, reason: str) -> None:
    with pytest.raises(DigestParseError) as err:
        digest.parse_params(value)
    assert err.value.reason == reason
    assert err.value.value == value


def test_authorization_fields() -> None:
    creds = digest.parse_authorization(
        'digest username="alice", realm="hotline", nonce="n1", uri="sip:127.0.0.1", '
        'response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, nc=0000000a, cnonce="xyz", '
        'opaque="op"'
    )
    assert creds == digest.DigestCredentials(
        username="alice", realm="hotline", nonce="n1", uri="sip:127.0.0.1",
        response="0123456789abcdef0123456789abcdef", algorithm="MD5", qop="auth", nc="0000000a", cnonce="xyz",
        opaque="op",
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Basic dXNlcjpwdw==", "parameter 'dxnlcjpwdw' has an empty value"),  # token68 is not name=value
        ('Bearer token="x"', "scheme 'Bearer' is not Digest"),
        ('Digest username="a", realm="r", uri="u", response="x"', "missing nonce"),
        ('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth', "qop without cnonce and nc"),
        ('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=1, cnonce="c"',
         "nc is not 8 hex digits"),
    ],
)
def test_unusable_authorization(value: str, reason: str) -> None:
    with pytest.raises(DigestParseError) as err:
        digest.parse_authorization(value)
    assert err.value.reason == reason


def test_challenge_round_trips_through_the_parser() -> None:
    value = digest.build_challenge('he said "hi"', "abc.def", opaque="op", stale=True)
    scheme, params = digest.parse_params(value)
    assert scheme == "Digest"
    assert params == {"realm": 'he said "hi"', "nonce": "abc.def", "opaque": "op", "algorithm": "MD5",
                      "qop": "auth", "stale": "true"}
    assert "stale" not in digest.parse_params(digest.build_challenge("r", "n"))[1]


# -- the digest ------------------------------------------------------------------------------------
def test_rfc2617_example_response() -> None:
    """The worked example of RFC 2617 §3.5."""
    h = digest.ha1("Mufasa", "testrealm@host.com", "Circle Of Life")
    got = digest.compute_response(h, "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                  qop="auth", nc="00000001", cnonce="0a4f113b")
    assert got == "6629fae49393a05397450978507c4ef1"


def test_response_without_qop_is_rfc2069_style() -> None:
    h = digest.ha1("bob", "hotline", "pw")
    ha2 = hashlib.md5(b"REGISTER:sip:127.0.0.1").hexdigest()
    expected = hashlib.md5(f"{h}:n0:{ha2}".encode()).hexdigest()
    assert digest.compute_response(h, "REGISTER", "sip:127.0.0.1", "n0") == expected
    with pytest.raises(ValueError):
        digest.compute_response(h, "REGISTER", "sip:127.0.0.1", "n0", qop="auth-int", nc="00000001", cnonce="c")


def test_sippy_client_answer_verifies() -> None:
    """Interop: sippy's own UAC code answers our challenge, with and without qop."""
    from sippy.SipWWWAuthenticate import SipWWWAuthenticate

    challenge = digest.build_challenge("hotline", "n.1.x", opaque="op")
    for qop in ("auth", None):
        www = SipWWWAuthenticate(challenge)
        www.parse()
        auth = www.genAuthHF("alice", "s3cret", "REGISTER", "sip:127.0.0.1:5060", qop=qop)
        creds = digest.parse_authorization(str(auth))
        assert creds.qop == qop and creds.opaque == "op"
        good = digest.ha1("alice", "hotline", "s3cret")
        assert digest.verify_response(creds, good, "REGISTER")
        assert not digest.verify_response(creds, digest.ha1("alice", "hotline", "wrong"), "REGISTER")
        assert not digest.verify_response(creds, good, "INVITE")  # the method is part of the digest


def test_response_case_and_shape() -> None:
    h = digest.ha1("a", "r", "p")
    right = digest.compute_response(h, "REGISTER", "sip:h", "n", qop="auth", nc="00000001", cnonce="c")
    base = digest.DigestCredentials("a", "r", "n", "sip:h", right.upper(), qop="auth", nc="00000001", cnonce="c")
    assert digest.verify_response(base, h, "REGISTER")
    odd = digest.DigestCredentials("a", "r", "n", "sip:h", "é" * 32, qop="auth", nc="00000001", cnonce="c")
    assert not digest.verify_response(odd, h, "REGISTER")


# -- nonces ------------------------------------------------------------------------------------------
IP = "192.0.2.10"


def test_nonce_lifecycle() -> None:
    nonce = digest.make_nonce(SECRET, 1000.0, client=IP)
    assert digest.check_nonce(SECRET, nonce, 1000.0, 30, client=IP) is NonceStatus.VALID
    assert digest.check_nonce(SECRET, nonce, 1030.0, 30, client=IP) is NonceStatus.VALID
    assert digest.check_nonce(SECRET, nonce, 1030.5, 30, client=IP) is NonceStatus.STALE
    assert digest.check_nonce(b"other" * 8, nonce, 1000.0, 30, client=IP) is NonceStatus.INVALID
    assert digest.check_nonce(SECRET, nonce, 990.0, 30, client=IP) is NonceStatus.INVALID  # dated in the future
    assert digest.nonce_issued(nonce) == 1000.0 and digest.nonce_issued("junk") is None


def test_nonce_is_bound_to_the_client_address() -> None:
    nonce = digest.make_nonce(SECRET, 1000.0, client=IP)
    for other in ("192.0.2.11", "", "192.0.2.1", "2001:db8::1"):
        assert digest.check_nonce(SECRET, nonce, 1000.0, 30, client=other) is NonceStatus.INVALID
    v6 = digest.make_nonce(SECRET, 1000.0, client="2001:db8::1")
    assert digest.check_nonce(SECRET, v6, 1000.0, 30, client="2001:db8::1") is NonceStatus.VALID


def test_nonces_are_unique_and_bound_to_their_time() -> None:
    a, b = digest.make_nonce(SECRET, 5.0, client=IP), digest.make_nonce(SECRET, 5.0, client=IP)
    assert a != b
    stamp, salt, tag = a.split(".")
    assert int(stamp, 16) == 5000
    # moving the issue time forward (to make an old nonce look fresh) breaks the signature
    forged = f"{int(stamp, 16) + 100000:x}.{salt}.{tag}"
    assert digest.check_nonce(SECRET, forged, 105.0, 30, client=IP) is NonceStatus.INVALID


@pytest.mark.parametrize("junk", ["", "abc", "1.2", "1.2.3.4", "zz.ab." + "0" * 32, "1.é." + "0" * 32,
                                  "1.ab." + "0" * 31 + "é"])
def test_garbage_nonces_are_invalid(junk: str) -> None:
    assert digest.check_nonce(SECRET, junk, 10.0, 30, client=IP) is NonceStatus.INVALID


def test_nonce_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        digest.make_nonce(SECRET, -1.0, client=IP)
    with pytest.raises(ValueError):
        digest.make_nonce(SECRET, 1.0, client=IP, salt="a.b")
    fixed = digest.make_nonce(SECRET, 1.0, client=IP, salt="fixed")
    assert digest.check_nonce(SECRET, fixed, 1.0, 5, client=IP) is NonceStatus.VALID


def test_opaque_depends_on_the_secret_only() -> None:
    assert digest.make_opaque(SECRET) == digest.make_opaque(SECRET)
    assert digest.make_opaque(SECRET) != digest.make_opaque(b"x" * 32)


# -- request URIs --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("sip:127.0.0.1:5060", "sip:127.0.0.1:5060", True),
        ("SIP:Hotline.Example:5060;Transport=TCP", "sip:hotline.example:5060;transport=tcp", True),
        ("sip:Alice@h", "sip:alice@h", False),  # the user part is case-sensitive
        ("sip:127.0.0.1", "sip:127.0.0.1:5060", False),  # an omitted port is not the default port
        ("sip:127.0.0.1:5060", "sip:127.0.0.1:5060;transport=tcp", False),
        ("sip:evil.example", "sip:127.0.0.1", False),
        ("", "sip:127.0.0.1", False),
    ],
)
def test_same_uri(a: str, b: str, same: bool) -> None:
    assert digest.same_uri(a, b) is same
    assert digest.same_uri(b, a) is same


# -- DigestAuth: judging answers -----------------------------------------------------------------------
RURI = "sip:127.0.0.1:5060"
HA1 = digest.ha1("alice", "hotline", "s3cret")


def phone_answer(challenge: str, *, nc: int = 1, uri: str = RURI, password: str = "s3cret", qop: str | None = "auth",
                 method: str = "REGISTER") -> digest.DigestCredentials:
    """What a phone sends for ``challenge``."""
    _, ch = digest.parse_params(challenge)
    h = digest.ha1("alice", ch["realm"], password)
    ncs = f"{nc:08x}" if qop else None
    cnonce = "c0ffee" if qop else None
    resp = digest.compute_response(h, method, uri, ch["nonce"], qop=qop, nc=ncs, cnonce=cnonce)
    return digest.DigestCredentials("alice", ch["realm"], ch["nonce"], uri, resp, "MD5", qop, ncs, cnonce,
                                    ch["opaque"])


def judge(auth: digest_auth.DigestAuth, creds: digest.DigestCredentials, *, now: float = 100.0, client: str = IP,
          ha1: str | None = HA1, uri: str = RURI) -> digest_auth.Verdict:
    return auth.check(creds, ha1=ha1, method="REGISTER", request_uri=uri, client=client, now=now)


def test_answers_and_their_verdicts() -> None:
    V = digest_auth.Verdict
    auth = digest_auth.DigestAuth("hotline", 30, SECRET)
    ch = auth.challenge(IP, 100.0)
    assert judge(auth, phone_answer(ch)) is V.OK
    assert judge(auth, phone_answer(ch)) is V.REPLAY  # same nonce, same nc
    assert judge(auth, phone_answer(ch, nc=3)) is V.OK
    assert judge(auth, phone_answer(ch, nc=2)) is V.REPLAY  # decreasing
    assert judge(auth, phone_answer(ch, nc=4, password="guess")) is V.WRONG
    assert judge(auth, phone_answer(ch, nc=4), ha1=None) is V.WRONG  # unknown user: the same verdict
    assert judge(auth, phone_answer(ch, nc=4)) is V.OK  # wrong guesses did not advance the count
    assert judge(auth, phone_answer(ch, qop=None)) is V.NO_QOP
    assert judge(auth, phone_answer(ch, nc=5, uri="sip:elsewhere")) is V.BAD_URI
    assert judge(auth, phone_answer(ch, nc=5), client="192.0.2.99") is V.CHALLENGE  # another client's nonce
    assert judge(auth, phone_answer(ch, nc=5), now=131.0) is V.STALE
    assert judge(auth, phone_answer(ch, nc=5, password="guess"), now=131.0) is V.WRONG_STALE
    forged = digest_auth.DigestAuth("hotline", 30, b"x" * 32).challenge(IP, 100.0)
    assert judge(auth, phone_answer(forged)) is V.CHALLENGE  # not our nonce (nor our opaque)
    assert judge(auth, phone_answer(ch, nc=5, method="INVITE")) is V.WRONG  # the method is part of the digest


def test_sippy_answers_are_accepted_only_with_qop() -> None:
    """Interop: sippy's UAC code answers our challenge; its qop-less (RFC 2069) answer is refused."""
    from sippy.SipWWWAuthenticate import SipWWWAuthenticate

    auth = digest_auth.DigestAuth("hotline", 30, SECRET)
    for qop, verdict in (("auth", digest_auth.Verdict.OK), (None, digest_auth.Verdict.NO_QOP)):
        www = SipWWWAuthenticate(auth.challenge(IP, 100.0))
        www.parse()
        creds = digest.parse_authorization(str(www.genAuthHF("alice", "s3cret", "REGISTER", RURI, qop=qop)))
        assert judge(auth, creds) is verdict


def test_counts_are_forgotten_with_their_nonce() -> None:
    auth = digest_auth.DigestAuth("hotline", 30, SECRET)
    assert judge(auth, phone_answer(auth.challenge(IP, 100.0))) is digest_auth.Verdict.OK
    assert auth.tracked() == 1
    auth.prune(130.0)
    assert auth.tracked() == 1
    auth.prune(131.0)
    assert auth.tracked() == 0


def test_a_full_count_table_turns_dropped_nonces_stale_never_replayable() -> None:
    auth = digest_auth.DigestAuth("hotline", 300, SECRET, max_nonces=2)
    old, mid, new = (auth.challenge(IP, t) for t in (100.0, 101.0, 102.0))
    for ch in (old, mid, new):  # the third pushes the oldest entry out
        assert judge(auth, phone_answer(ch), now=103.0) is digest_auth.Verdict.OK
    assert auth.tracked() == 2
    assert judge(auth, phone_answer(old), now=103.0) is digest_auth.Verdict.STALE  # not OK: its count was dropped
    assert judge(auth, phone_answer(mid, nc=2), now=103.0) is digest_auth.Verdict.OK
    assert judge(auth, phone_answer(new), now=103.0) is digest_auth.Verdict.REPLAY


def test_nonce_counts_unit() -> None:
    counts = digest_auth.NonceCounts(max_entries=10)
    assert not counts.advance("n", 0, 1.0, 50.0)  # nc starts at 1
    assert counts.advance("n", 1, 1.0, 50.0) and not counts.advance("n", 1, 1.0, 50.0)
    assert counts.advance("n", 7, 1.0, 50.0) and len(counts) == 1
    counts.prune(49.9)
    assert len(counts) == 1
    counts.prune(50.0)
    assert len(counts) == 0 and not counts.expired("n", 1.0)

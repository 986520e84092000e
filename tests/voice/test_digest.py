"""voice.digest: header parsing and building, the digest computation, and signed nonces."""

from __future__ import annotations

import hashlib

import pytest

from voice import digest
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
def test_nonce_lifecycle() -> None:
    nonce = digest.make_nonce(SECRET, 1000.0)
    assert digest.check_nonce(SECRET, nonce, 1000.0, 30) is NonceStatus.VALID
    assert digest.check_nonce(SECRET, nonce, 1030.0, 30) is NonceStatus.VALID
    assert digest.check_nonce(SECRET, nonce, 1030.5, 30) is NonceStatus.STALE
    assert digest.check_nonce(b"other" * 8, nonce, 1000.0, 30) is NonceStatus.INVALID
    assert digest.check_nonce(SECRET, nonce, 990.0, 30) is NonceStatus.INVALID  # dated in the future


def test_nonces_are_unique_and_bound_to_their_time() -> None:
    a, b = digest.make_nonce(SECRET, 5.0), digest.make_nonce(SECRET, 5.0)
    assert a != b
    stamp, salt, tag = a.split(".")
    assert int(stamp, 16) == 5000
    # moving the issue time forward (to make an old nonce look fresh) breaks the signature
    forged = f"{int(stamp, 16) + 100000:x}.{salt}.{tag}"
    assert digest.check_nonce(SECRET, forged, 105.0, 30) is NonceStatus.INVALID


@pytest.mark.parametrize("junk", ["", "abc", "1.2", "1.2.3.4", "zz.ab." + "0" * 32, "1.é." + "0" * 32,
                                  "1.ab." + "0" * 31 + "é"])
def test_garbage_nonces_are_invalid(junk: str) -> None:
    assert digest.check_nonce(SECRET, junk, 10.0, 30) is NonceStatus.INVALID


def test_nonce_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        digest.make_nonce(SECRET, -1.0)
    with pytest.raises(ValueError):
        digest.make_nonce(SECRET, 1.0, salt="a.b")
    assert digest.check_nonce(SECRET, digest.make_nonce(SECRET, 1.0, salt="fixed"), 1.0, 5) is NonceStatus.VALID


def test_opaque_depends_on_the_secret_only() -> None:
    assert digest.make_opaque(SECRET) == digest.make_opaque(SECRET)
    assert digest.make_opaque(SECRET) != digest.make_opaque(b"x" * 32)

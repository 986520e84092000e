"""voice.registrar: digest challenges, bindings and their expiry, rate limiting; a fake clock drives time."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import replace

import pytest

from voice.registrar import (
    Binding,
    ContactSpec,
    CredentialError,
    Credentials,
    Decision,
    FailureLimiter,
    RegisterRequest,
    Registrar,
)
from voice.settings import SipSettings

REALM = "hotline"
SRC = ("192.0.2.10", 5062)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def challenge_params(decision: Decision) -> dict[str, str]:
    """The parameters of the 401's WWW-Authenticate (parsed here independently of voice.digest)."""
    assert decision.code == 401, decision
    (name, value), = decision.headers
    assert name == "WWW-Authenticate" and value.startswith("Digest ")
    return {k.lower(): v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', value)}


RURI = "sip:192.0.2.1"


def answer(decision: Decision, user: str, password: str, *, qop: bool = True, uri: str = RURI,
           realm: str | None = None, nc: int = 1) -> str:
    """An Authorization value for the challenge in ``decision``, computed the way a phone does."""
    ch = challenge_params(decision)
    realm = realm or ch["realm"]
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"REGISTER:{uri}")
    nonce, opaque = ch["nonce"], ch["opaque"]
    head = f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", algorithm=MD5'
    if not qop:
        return f'{head}, response="{md5(f"{ha1}:{nonce}:{ha2}")}", opaque="{opaque}"'
    resp = md5(f"{ha1}:{nonce}:{nc:08x}:0a4f113b:auth:{ha2}")
    return f'{head}, response="{resp}", qop=auth, nc={nc:08x}, cnonce="0a4f113b", opaque="{opaque}"'


def contact(n: int = 1, expires: int | None = None, transport: str | None = None) -> ContactSpec:
    return ContactSpec(uri=f"sip:alice@10.0.0.{n}:5062", host=f"10.0.0.{n}", port=5062, transport=transport,
                       expires=expires)


class Env:
    """A registrar with alice (password 'secret') and a record of its change events."""

    def __init__(self, **settings: object) -> None:
        base: dict[str, object] = {"register_min_expires_s": 10, "register_max_expires_s": 3600,
                                   "register_default_expires_s": 600, "nonce_ttl_s": 30, "auth_fail_limit": 3,
                                   "auth_fail_window_s": 60, "auth_block_s": 120}
        base.update(settings)
        self.settings = SipSettings.model_validate(base)
        self.clock = FakeClock()
        self.creds = Credentials()
        self.creds.set_password("alice", REALM, "secret")
        self.events: list[tuple[str, bool, Binding | None]] = []
        self.reg = Registrar(self.settings, self.creds, clock=self.clock,
                             on_change=lambda u, b, x: self.events.append((u, b, x)))
        self.cseq = 0

    def request(self, **kw: object) -> RegisterRequest:
        self.cseq += 1
        fields: dict[str, object] = {"aor_user": "alice", "call_id": "c1@phone", "cseq": self.cseq, "source": SRC,
                                     "request_uri": RURI, "contacts": (contact(),), "user_agent": "TestPhone/1"}
        fields.update(kw)
        return RegisterRequest(**fields)  # type: ignore[arg-type]

    def register(self, user: str = "alice", password: str = "secret", qop: bool = True, **kw: object) -> Decision:
        """The two-step exchange of a phone: 401, then the answered request."""
        first = self.reg.handle(self.request(**kw))
        return self.reg.handle(self.request(authorization=(answer(first, user, password, qop=qop),), **kw))


# -- challenge and authentication ------------------------------------------------------------------
def test_first_register_is_challenged() -> None:
    env = Env()
    decision = env.reg.handle(env.request())
    ch = challenge_params(decision)
    assert decision.reason == "Unauthorized"
    assert ch["realm"] == REALM and ch["algorithm"] == "MD5" and ch["qop"] == "auth" and ch["opaque"]
    assert "stale" not in ch
    assert env.reg.lookup("alice") is None and env.events == []


def test_right_password_binds_the_contact() -> None:
    env = Env()
    decision = env.register(expires=120)
    assert (decision.code, decision.reason) == (200, "OK")
    assert decision.headers == (("Contact", "<sip:alice@10.0.0.1:5062>;expires=120"),)
    b = env.reg.lookup("alice")
    assert b is not None
    assert (b.username, b.contact, b.host, b.port, b.transport) == ("alice", "sip:alice@10.0.0.1:5062", "10.0.0.1",
                                                                   5062, "udp")
    assert (b.expires_at, b.source, b.user_agent, b.cseq) == (1120.0, SRC, "TestPhone/1", 2)
    assert decision.bindings == (b,)
    assert env.events == [("alice", True, b)]


def test_wrong_password_and_unknown_user_get_the_same_403(caplog: pytest.LogCaptureFixture) -> None:
    env = Env()
    caplog.set_level(logging.WARNING, logger="hotline.sip.auth")
    wrong = env.register(password="guess")
    unknown = env.register(user="mallory", password="secret", aor_user="mallory")
    assert wrong == unknown == Decision(403, "Forbidden")
    assert env.reg.lookup("alice") is None and env.reg.lookup("mallory") is None
    failures = [r for r in caplog.records if r.name == "hotline.sip.auth" and r.levelno == logging.WARNING]
    assert len(failures) == 2
    assert "'alice'" in failures[0].getMessage() and "192.0.2.10:5062" in failures[0].getMessage()
    assert "'mallory'" in failures[1].getMessage()


def test_user_may_only_register_its_own_address() -> None:
    env = Env()
    assert env.register(aor_user="bob").code == 403
    assert env.reg.lookup("bob") is None and env.reg.lookup("alice") is None


def test_stale_nonce_with_right_password_gets_stale_true() -> None:
    env = Env()
    first = env.reg.handle(env.request())
    env.clock.now += 31  # nonce_ttl_s is 30
    again = env.reg.handle(env.request(authorization=(answer(first, "alice", "secret"),)))
    assert challenge_params(again)["stale"] == "true"
    assert challenge_params(again)["nonce"] != challenge_params(first)["nonce"]
    ok = env.reg.handle(env.request(authorization=(answer(again, "alice", "secret"),)))
    assert ok.code == 200


def test_stale_nonce_with_wrong_password_is_not_confirmed_and_counts_as_failure() -> None:
    env = Env(auth_fail_limit=1)
    first = env.reg.handle(env.request())
    env.clock.now += 31
    again = env.reg.handle(env.request(authorization=(answer(first, "alice", "nope"),)))
    assert "stale" not in challenge_params(again)
    assert env.reg.handle(env.request()) == Decision(403, "Forbidden")  # the failure blocked the source


@pytest.mark.parametrize("mangle", ["nonce", "realm", "opaque", "algorithm"])
def test_credentials_not_for_our_challenge_get_a_fresh_401(mangle: str) -> None:
    env = Env(auth_fail_limit=1)
    auth = answer(env.reg.handle(env.request()), "alice", "secret")
    if mangle == "nonce":
        auth = re.sub(r'nonce="([0-9a-f]+)\.', lambda m: f'nonce="{int(m.group(1), 16) + 1:x}.', auth)
    elif mangle == "realm":
        auth = auth.replace(f'realm="{REALM}"', 'realm="elsewhere"')
    elif mangle == "opaque":
        auth = re.sub(r'opaque="[^"]*"', 'opaque="forged"', auth)
    else:
        auth = auth.replace("algorithm=MD5", "algorithm=SHA-256")
    decision = env.reg.handle(env.request(authorization=(auth,)))
    assert decision.code == 401 and "stale" not in challenge_params(decision)
    assert env.reg.handle(env.request()).code == 401  # not counted as a failed password


def test_answer_without_qop_is_challenged_again_not_counted(caplog: pytest.LogCaptureFixture) -> None:
    """RFC 2069 answers (no qop, so no nc) could be replayed at will: refused with a fresh 401."""
    env = Env(auth_fail_limit=1)
    caplog.set_level(logging.INFO, logger="hotline.sip.auth")
    decision = env.register(qop=False)
    assert decision.code == 401 and "stale" not in challenge_params(decision)
    assert env.reg.lookup("alice") is None
    assert any("without qop=auth" in r.getMessage() for r in caplog.records)
    assert env.register().code == 200  # not a failed login: the source is not blocked


def test_replayed_answer_is_refused_with_stale_true(caplog: pytest.LogCaptureFixture) -> None:
    """The same Authorization (same nonce and nc) sent again, say by someone who captured it."""
    env = Env()
    caplog.set_level(logging.WARNING, logger="hotline.sip.auth")
    auth = answer(env.reg.handle(env.request()), "alice", "secret")
    assert env.reg.handle(env.request(authorization=(auth,), expires=100)).code == 200
    env.reg.unregister("alice")
    replay = env.reg.handle(env.request(authorization=(auth,), expires=100))
    assert challenge_params(replay)["stale"] == "true"  # a real phone retries with the new nonce
    assert env.reg.lookup("alice") is None
    assert any("digest replay from 192.0.2.10" in r.getMessage() for r in caplog.records)
    assert env.register().code == 200  # a replay is not a failed login


def test_nonce_reuse_needs_an_increasing_nc() -> None:
    env = Env()
    first = env.reg.handle(env.request())
    ok = [env.reg.handle(env.request(authorization=(answer(first, "alice", "secret", nc=n),))).code
          for n in (1, 2, 5)]
    assert ok == [200, 200, 200]  # phones reuse a nonce with nc + 1 (gaps are allowed)
    for nc in (5, 4, 0):
        again = env.reg.handle(env.request(authorization=(answer(first, "alice", "secret", nc=nc),)))
        assert again.code == 401 and challenge_params(again)["stale"] == "true", nc
    assert env.reg.handle(env.request(authorization=(answer(first, "alice", "secret", nc=6),))).code == 200


def test_wrong_guesses_do_not_burn_the_counts() -> None:
    env = Env(auth_fail_limit=10)
    first = env.reg.handle(env.request())
    assert env.reg.handle(env.request(authorization=(answer(first, "alice", "guess", nc=9),))).code == 403
    assert env.reg.handle(env.request(authorization=(answer(first, "alice", "secret", nc=1),))).code == 200


def test_digest_uri_must_be_the_request_uri() -> None:
    env = Env(auth_fail_limit=1)
    first = env.reg.handle(env.request())
    other = env.reg.handle(env.request(authorization=(answer(first, "alice", "secret", uri="sip:evil.example"),)))
    assert other.code == 400 and "Request-URI" in other.reason
    # the same URI spelled with another case of scheme, host or parameters is the same URI
    spelled = env.reg.handle(env.request(request_uri="SIP:192.0.2.1;Transport=UDP", authorization=(
        answer(first, "alice", "secret", uri="sip:192.0.2.1;transport=udp"),)))
    assert spelled.code == 200


def test_nonce_is_only_good_from_the_address_it_was_issued_to() -> None:
    env = Env(auth_fail_limit=1)
    auth = answer(env.reg.handle(env.request()), "alice", "secret")
    moved = env.reg.handle(env.request(source=("192.0.2.77", 5062), authorization=(auth,)))
    assert moved.code == 401 and "stale" not in challenge_params(moved)  # a fresh challenge, not a failure
    assert env.reg.handle(env.request(authorization=(auth,))).code == 200  # still good from where it went


def test_sweep_forgets_counts_of_expired_nonces() -> None:
    env = Env()
    assert env.register().code == 200
    assert env.reg.auth.tracked() == 1
    env.clock.now += 30
    env.reg.expire()
    assert env.reg.auth.tracked() == 1
    env.clock.now += 2  # nonce_ttl_s 30, plus a second of slack
    env.reg.expire()
    assert env.reg.auth.tracked() == 0


def test_unreadable_authorization_is_400() -> None:
    env = Env()
    assert env.reg.handle(env.request(authorization=('Digest username="alice', ))).code == 400


# -- bindings --------------------------------------------------------------------------------------------
def test_expires_header_contact_parameter_default_and_clamping() -> None:
    env = Env()
    ok = env.register(contacts=(contact(1, expires=40), contact(2), contact(3, expires=99999)), expires=70)
    got = {b.contact: b.expires_at - env.clock.now for b in ok.bindings}
    assert got == {"sip:alice@10.0.0.1:5062": 40, "sip:alice@10.0.0.2:5062": 70, "sip:alice@10.0.0.3:5062": 3600}
    assert {v for _, v in ok.headers} == {"<sip:alice@10.0.0.1:5062>;expires=40",
                                          "<sip:alice@10.0.0.2:5062>;expires=70",
                                          "<sip:alice@10.0.0.3:5062>;expires=3600"}
    env.clock.now += 1
    default = env.register(contacts=(contact(4, transport="TCP"),), call_id="other")
    b4 = next(b for b in default.bindings if b.host == "10.0.0.4")
    assert b4.expires_at == env.clock.now + 600 and b4.transport == "tcp"
    assert len(default.bindings) == 4  # the 200 lists every current binding of the user


def test_below_min_expires_is_423_and_changes_nothing() -> None:
    env = Env()
    env.register(expires=100)
    before = env.reg.bindings("alice")
    decision = env.register(contacts=(contact(1, expires=5), contact(2)), expires=100)
    assert decision == Decision(423, "Interval Too Brief", (("Min-Expires", "10"),))
    assert env.reg.bindings("alice") == before


def test_query_without_contact_lists_bindings() -> None:
    env = Env()
    env.register(expires=100)
    env.clock.now += 30
    decision = env.register(contacts=())
    assert decision.code == 200 and decision.headers == (("Contact", "<sip:alice@10.0.0.1:5062>;expires=70"),)


def test_expires_zero_removes_one_and_wildcard_removes_all() -> None:
    env = Env()
    env.register(contacts=(contact(1), contact(2)), expires=100)
    removed = env.register(contacts=(contact(1, expires=0),))
    assert [b.host for b in removed.bindings] == ["10.0.0.2"]
    assert env.events[-1][1] is True
    assert env.register(wildcard=True, contacts=(contact(3),), expires=0).code == 400
    assert env.register(wildcard=True, contacts=()).code == 400  # * needs Expires: 0
    cleared = env.register(wildcard=True, contacts=(), expires=0)
    assert cleared == Decision(200, "OK")
    assert env.reg.lookup("alice") is None and env.events[-1] == ("alice", False, None)


def test_negative_expires_and_old_cseq_are_refused() -> None:
    env = Env()
    assert env.register(expires=-1).code == 400
    env.register(expires=100)
    stale = env.reg.handle(env.request(cseq=1, authorization=(answer(env.reg.handle(env.request()), "alice",
                                                                      "secret"),)))
    assert stale.code == 400 and "CSeq" in stale.reason
    assert env.register(call_id="new-call-id", expires=200).code == 200  # another Call-ID may replace it


def test_binding_expires_lookup_then_sweep() -> None:
    env = Env()
    env.register(expires=20)
    bound = env.reg.lookup("alice")
    assert bound is not None
    env.clock.now += 19.9
    assert env.reg.lookup("alice") == bound and env.reg.expire() == []
    env.clock.now += 0.1
    assert env.reg.lookup("alice") is None  # expired even before any sweep
    assert env.events == [("alice", True, bound)]
    assert env.reg.expire() == [bound]
    assert env.events[-1] == ("alice", False, None)
    assert env.reg.expire() == [] and len(env.events) == 2


def test_lookup_prefers_the_latest_registration_and_falls_back_when_it_expires() -> None:
    env = Env()
    env.register(contacts=(contact(1),), expires=300)
    older = env.reg.lookup("alice")
    env.clock.now += 5
    env.register(contacts=(contact(2),), expires=100)
    newer = env.reg.lookup("alice")
    assert older is not None and newer is not None and newer.host == "10.0.0.2"
    assert env.events == [("alice", True, older), ("alice", True, newer)]
    env.clock.now += 100
    assert env.reg.expire(env.clock.now) == [newer]
    assert env.events[-1] == ("alice", True, older)


def test_refresh_is_not_reported_but_a_moved_phone_is() -> None:
    env = Env()
    env.register(expires=100)
    env.clock.now += 50
    env.register(expires=100)
    assert len(env.events) == 1
    b = env.reg.lookup("alice")
    assert b is not None and b.expires_at == env.clock.now + 100
    env.register(expires=100, source=("192.0.2.10", 6000))
    assert len(env.events) == 2 and env.events[-1][2] == replace(b, source=("192.0.2.10", 6000), cseq=b.cseq + 2)


def test_unregister_and_listener_errors() -> None:
    env = Env()

    def broken(user: str, bound: bool, binding: Binding | None) -> None:
        raise RuntimeError(user)

    env.reg.add_listener(broken)  # a broken listener neither stops others nor the registrar
    assert env.register(expires=100).code == 200
    assert [b.host for b in env.reg.unregister("alice")] == ["10.0.0.1"]
    assert env.reg.lookup("alice") is None and env.events[-1] == ("alice", False, None)
    assert env.reg.unregister("alice") == []


# -- rate limiting ----------------------------------------------------------------------------------------
def test_repeated_failures_block_the_source(caplog: pytest.LogCaptureFixture) -> None:
    env = Env()  # 3 failures within 60 s block for 120 s
    caplog.set_level(logging.WARNING, logger="hotline.sip.auth")
    for _ in range(3):
        assert env.register(password="guess").code == 403
    assert any("blocking REGISTER from 192.0.2.10 for 120 s" in r.getMessage() for r in caplog.records)
    assert env.reg.handle(env.request()) == Decision(403, "Forbidden")  # no challenge while blocked
    other = env.register(source=("192.0.2.99", 5060))
    assert other.code == 200  # other sources are unaffected
    env.clock.now += 120
    assert env.register().code == 200


def test_failures_outside_the_window_do_not_add_up() -> None:
    env = Env()
    for _ in range(2):
        assert env.register(password="guess").code == 403
    env.clock.now += 61
    for _ in range(2):
        assert env.register(password="guess").code == 403
    assert env.register().code == 200


def test_limiter_prunes_what_it_no_longer_needs() -> None:
    lim = FailureLimiter(limit=2, window_s=10, block_s=5)
    assert lim.record("a", 0.0) == (1, False)
    assert lim.record("b", 0.0) == (1, False)
    assert lim.record("b", 1.0) == (2, True)
    assert lim.blocked("b", 5.9) and not lim.blocked("b", 6.0) and not lim.blocked("a", 1.0)
    lim.prune(10.0)
    assert lim.record("a", 10.0) == (1, False)  # the failure at 0.0 was forgotten


# -- credentials ---------------------------------------------------------------------------------------------
def test_credentials_validate_and_forget() -> None:
    creds = Credentials()
    with pytest.raises(CredentialError) as err:
        creds.set("alice", "not-hex")
    assert (err.value.username, err.value.reason) == ("alice", "HA1 must be 32 hex digits")
    with pytest.raises(CredentialError):
        creds.set("", "0" * 32)
    creds.set("alice", "AB" * 16)
    assert creds.get("alice") == "ab" * 16
    assert creds.remove("alice") and not creds.remove("alice") and creds.get("alice") is None


def test_removed_user_can_no_longer_register() -> None:
    env = Env()
    env.creds.remove("alice")
    assert env.register().code == 403


def test_concurrent_updates_and_registrations() -> None:
    env = Env(auth_fail_limit=1000)
    errors: list[BaseException] = []

    def churn() -> None:
        try:
            for i in range(200):
                env.creds.set_password(f"user{i}", REALM, "pw")
                env.creds.remove(f"user{i}")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=churn)
    thread.start()
    codes = [env.register(contacts=(contact(n % 5 + 1),), expires=100).code for n in range(50)]
    thread.join()
    assert errors == [] and set(codes) == {200}
    assert len(env.reg.bindings("alice")) == 5

"""voice.ratelimit: token buckets per source, the refuse-then-drop tiers, memory bounds and throttled logs."""

from __future__ import annotations

import logging

import pytest

from voice.ratelimit import Admission, Decision, LogThrottle, SourceLimiter

A, R, D = Admission.ALLOW, Admission.REFUSE, Admission.DROP


def test_burst_then_rate_then_refusals_then_drops() -> None:
    lim = SourceLimiter("INVITE", rate_per_s=10, burst=3)
    got = [lim.check("192.0.2.1", 0.0).admission for _ in range(8)]
    assert got == [A, A, A, R, R, R, D, D]
    assert lim.check("192.0.2.1", 0.1).admission is A  # one token per 0.1 s
    assert lim.check("192.0.2.1", 0.1).admission is R  # refusals refill at the same rate
    assert lim.check("192.0.2.2", 0.1).admission is A  # sources are independent
    assert [lim.check("192.0.2.1", 1.0).admission for _ in range(4)] == [A, A, A, R]  # back to a full burst


def test_retry_after_is_the_wait_for_one_token_in_whole_seconds() -> None:
    slow = SourceLimiter("REGISTER", rate_per_s=0.25, burst=2)
    assert [slow.check("x", 0.0) for _ in range(3)] == [Decision(A), Decision(A), Decision(R, 4)]
    assert slow.check("x", 3.0) == Decision(R, 1)  # 0.75 of a token there: a second to go, never 0
    fast = SourceLimiter("INVITE", rate_per_s=50, burst=1)
    fast.check("x", 0.0)
    assert fast.check("x", 0.0) == Decision(R, 1)


def test_rate_zero_admits_everything_and_remembers_nothing() -> None:
    lim = SourceLimiter("INVITE", rate_per_s=0, burst=1)
    assert all(lim.check(f"10.0.0.{i % 3}", 0.0).admission is A for i in range(1000))
    assert len(lim) == 0


def test_memory_is_bounded() -> None:
    lim = SourceLimiter("INVITE", rate_per_s=1, burst=2, max_sources=100)
    for i in range(1000):  # a spoofing flood: every request from a new address
        lim.check(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(lim) == 100
    lim.check("10.9.9.9", 2.0)  # buckets full again (2 s at 1/s) are forgotten: they are like new ones
    assert len(lim) == 1


def test_forgetting_a_source_does_not_reset_a_busy_one() -> None:
    lim = SourceLimiter("INVITE", rate_per_s=1, burst=2, max_sources=100)
    for _ in range(3):
        lim.check("busy", 0.0)
    for i in range(50):
        lim.check(f"other-{i}", 0.5)
    assert lim.check("busy", 0.5).admission is R  # still limited: its bucket was kept


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="INVITE limit"):
        SourceLimiter("INVITE", rate_per_s=-1, burst=1)
    with pytest.raises(ValueError):
        SourceLimiter("INVITE", rate_per_s=1, burst=0)


def test_one_log_line_per_interval_with_counts(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hotline.sip.limit")
    lim = SourceLimiter("INVITE", rate_per_s=1, burst=1, log_interval_s=10)
    for _ in range(50):
        lim.check("192.0.2.7", 0.0)
    for _ in range(5):
        lim.check("192.0.2.8", 0.0)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "1 refused with 503, 0 dropped" in lines[0] and "192.0.2.7" in lines[0]
    lim.flush(5.0)  # not due yet
    assert len(caplog.records) == 1
    lim.flush(10.0)  # the periodic flush reports what piled up
    assert len(caplog.records) == 2
    second = caplog.records[1].getMessage()
    assert "1 refused with 503, 51 dropped, from 2 source(s); most from 192.0.2.7 (48)" in second, second
    lim.flush(30.0)  # nothing new: no line
    assert len(caplog.records) == 2


def test_log_throttle() -> None:
    t = LogThrottle(5.0)
    assert t.note("a", 0.0)
    t.reset(0.0)
    assert not t.note("a", 1.0) and not t.note("b", 4.9)
    assert t.counts == {"a": 1, "b": 1} and t.note("a", 5.0)

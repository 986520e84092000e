"""Per-source rate limits for SIP requests: a token bucket per source IP, and throttled logging.

:class:`SourceLimiter` is synchronous and takes the time as an argument. A source within its rate is
admitted; one over it is refused (the caller answers 503 with the Retry-After given); one that keeps
sending while refused, faster than the same rate again, is dropped unanswered, which bounds the
transactions and the answers a flood can cost us. Memory is bounded by forgetting the least recently
seen sources. Not thread-safe: the SIP stack uses it on the sippy thread only.
"""

from __future__ import annotations

import enum
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass

log = logging.getLogger("hotline.sip.limit")
_TOP_SOURCES = 1000  # sources counted one by one between two log lines


class Admission(enum.Enum):
    """What to do with one request."""

    ALLOW = "allow"
    REFUSE = "refuse"  # answer 503 with Retry-After
    DROP = "drop"  # no answer at all: the source ignored our 503s


@dataclass(frozen=True, slots=True)
class Decision:
    """The admission of one request; ``retry_after_s`` (whole seconds, >= 1) is set when refused."""

    admission: Admission
    retry_after_s: int = 0


@dataclass(slots=True)
class _Bucket:
    tokens: float  # requests the source may still send now
    refusals: float  # 503s we may still send it now
    stamp: float  # when both were last topped up


class LogThrottle:
    """At most one log line per ``interval_s``: counts events between lines and says when a line is due."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._next = -math.inf
        self.counts: dict[str, int] = {}

    def note(self, what: str, now: float) -> bool:
        """Count one ``what``; True when a line is due now (the caller logs :attr:`counts`, then :meth:`reset`)."""
        self.counts[what] = self.counts.get(what, 0) + 1
        return self.due(now)

    def due(self, now: float) -> bool:
        """Whether the interval since the last line is over."""
        return now >= self._next

    def reset(self, now: float) -> None:
        """A line was logged: start counting afresh."""
        self._next = now + self.interval_s
        self.counts = {}


class SourceLimiter:
    """Token bucket per source IP for one kind of request (``name``, e.g. ``"INVITE"``).

    ``rate_per_s`` tokens flow in per second up to ``burst``; each request takes one. A ``rate_per_s`` of
    0 admits everything.
    """

    def __init__(self, name: str, rate_per_s: float, burst: int, *, max_sources: int = 100_000,
                 log_interval_s: float = 10.0) -> None:
        if rate_per_s < 0 or burst < 1 or max_sources < 1:
            raise ValueError(f"{name} limit needs rate >= 0, burst >= 1, max_sources >= 1; got "
                             f"{rate_per_s}, {burst}, {max_sources}")
        self.name = name
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_sources = max_sources
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently seen first
        self._throttle = LogThrottle(log_interval_s)
        self._sources: dict[str, int] = {}  # source -> refused or dropped since the last log line

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, source: str, now: float) -> Decision:
        """Take a token for one request from ``source`` at ``now``."""
        if self.rate_per_s == 0:
            return Decision(Admission.ALLOW)
        bucket = self._bucket(source, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Decision(Admission.ALLOW)
        if bucket.refusals >= 1:
            bucket.refusals -= 1
            self._note(source, Admission.REFUSE, now)
            return Decision(Admission.REFUSE, max(1, math.ceil((1 - bucket.tokens) / self.rate_per_s)))
        self._note(source, Admission.DROP, now)
        return Decision(Admission.DROP)

    def _bucket(self, source: str, now: float) -> _Bucket:
        bucket = self._buckets.get(source)
        if bucket is None:
            bucket = _Bucket(float(self.burst), float(self.burst), now)
            self._buckets[source] = bucket
            self._forget(now)
        else:
            self._buckets.move_to_end(source)
            gained = max(0.0, now - bucket.stamp) * self.rate_per_s
            bucket.tokens = min(float(self.burst), bucket.tokens + gained)
            bucket.refusals = min(float(self.burst), bucket.refusals + gained)
            bucket.stamp = now
        return bucket

    def _forget(self, now: float) -> None:
        """Drop sources whose buckets are full again (they are like new), and the oldest past ``max_sources``."""
        refill_s = self.burst / self.rate_per_s
        while self._buckets:
            source, oldest = next(iter(self._buckets.items()))
            if len(self._buckets) <= self.max_sources and now - oldest.stamp < refill_s:
                break
            del self._buckets[source]

    def _note(self, source: str, what: Admission, now: float) -> None:
        if source in self._sources or len(self._sources) < _TOP_SOURCES:
            self._sources[source] = self._sources.get(source, 0) + 1
        if self._throttle.note(what.value, now):
            self.flush(now)

    def flush(self, now: float) -> None:
        """Log what was refused and dropped since the last line, if anything was and a line is due."""
        counts = self._throttle.counts
        if not counts or not self._throttle.due(now):
            return
        top = max(self._sources.items(), key=lambda kv: kv[1], default=("?", 0))
        log.warning("%s rate limit (%g/s, burst %d per source IP): %d refused with 503, %d dropped, from %s%d "
                    "source(s); most from %s (%d)", self.name, self.rate_per_s, self.burst,
                    counts.get(Admission.REFUSE.value, 0), counts.get(Admission.DROP.value, 0),
                    "at least " if len(self._sources) >= _TOP_SOURCES else "", len(self._sources), top[0], top[1])
        self._throttle.reset(now)
        self._sources = {}


__all__ = ["Admission", "Decision", "LogThrottle", "SourceLimiter"]

"""voice.transactions.sip_defect: what is dropped before sippy parses it (sippy prints a traceback for each)."""

from __future__ import annotations

import pytest

from voice.transactions import sip_defect

GOOD = (b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\n"
        b"From: <sip:b@127.0.0.1>;tag=1\r\n"
        b"To: <sip:a@127.0.0.1>\r\n"
        b"Call-ID: 1@x\r\n"
        b"CSeq: 1 OPTIONS\r\n"
        b"Content-Length: 4\r\n"
        b"\r\n"
        b"body")


def _drop(name: bytes) -> bytes:
    return b"\r\n".join(line for line in GOOD.split(b"\r\n") if not line.startswith(name + b":"))


def test_good_messages_pass() -> None:
    assert sip_defect(GOOD) is None
    assert sip_defect(b"\r\n\r\n" + GOOD) is None  # after keep-alives
    compact = (b"SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:b@h>;tag=1\r\nt: <sip:a@h>\r\n"
               b"i: 1@x\r\nCSeq:  7   INVITE \r\nl: 0\r\n\r\n")
    assert sip_defect(compact) is None
    assert sip_defect(GOOD.replace(b"Content-Length: 4", b"Content-Length: 2")) is None  # extra bytes: ignored
    assert sip_defect(GOOD.replace(b"To: <sip:a@127.0.0.1>", b"To:\r\n <sip:a@127.0.0.1>")) is None  # folded


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x01garbage", "not a SIP start line"),
        (b"INVITE sip:", "not a SIP start line"),
        (GOOD.replace(b"From: <sip:b@", b"From: \xff<sip:b@"), "not UTF-8 at byte"),
        (_drop(b"Via"), "no Via header"),
        (_drop(b"Call-ID"), "no Call-ID header"),
        (_drop(b"CSeq"), "no CSeq header"),
        (_drop(b"From"), "no From header"),
        (_drop(b"To"), "no To header"),
        (GOOD.replace(b"CSeq: 1 OPTIONS", b"CSeq: banana OPTIONS"), "malformed CSeq"),
        (GOOD.replace(b"CSeq: 1 OPTIONS", b"CSeq: 99999999999 OPTIONS"), "malformed CSeq"),
        (GOOD.replace(b"Content-Length: 4", b"Content-Length: 5"), "Content-Length b'5' with a body of 4"),
        (GOOD.replace(b"Content-Length: 4", b"Content-Length: -1"), "Content-Length b'-1'"),
        (GOOD.replace(b"Content-Length: 4", b"Content-Length: lots"), "Content-Length b'lots'"),
        (GOOD.replace(b"Content-Length: 4", b"Content-Length: 4\r\nl: 9"), "Content-Length b'9'"),
    ],
)
def test_defects_are_named(data: bytes, reason: str) -> None:
    defect = sip_defect(data)
    assert defect is not None and defect.startswith(reason), defect

"""One incoming call on the agent phone: ring, answer, play, record, hang up or transfer by REFER."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pjsua2 as pj

from hotline.phone.audio import PreparedAudio
from hotline.phone.softphone import FilePlayer, TrackedCall, pj_message

_XFER_WAIT_S = 4.0  # after sending the REFER: hang up if it was accepted, and no 2xx NOTIFY nor BYE came
_EOF_MARGIN_S = 0.5  # if the player's EOF callback never comes, assume EOF this long after the duration

#: One event for the JSON output: its name and its fields (the caller adds ``call``).
Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class CallPlan:
    """What the agent phone does with each call it takes."""

    auto_answer: bool = False
    answer_delay_s: float = 0.0
    play: PreparedAudio | None = None
    hangup_after_s: float | None = None
    transfer_to: str | None = None
    transfer_after_s: float | None = None


def _op(status: int) -> Any:
    """A ``pj.CallOpParam`` carrying SIP ``status``."""
    prm = pj.CallOpParam(True)
    prm.statusCode = status
    return prm


class AgentCall(TrackedCall):
    """An incoming call; `step` advances it from the polling loop and returns the events to report."""

    def __init__(self, account: Any, call_id: int) -> None:
        super().__init__(account, call_id)
        info = self.getInfo()
        self.remote_uri: str = info.remoteUri
        self.local_uri: str = info.localUri
        self.call_id = info.callIdString
        self.received_at = time.monotonic()
        self.number = 0
        self.plan = CallPlan()
        self.record_path: Path | None = None
        self.answer_sent = False
        self.answer_reported = False
        self.codec: str | None = None
        self.media_started = False
        self.player: FilePlayer | None = None
        self.recorder: Any = None
        self.play_started: float | None = None
        self.eof_at: float | None = None
        self.hangup_at: float | None = None
        self.cause: str | None = None  # why we hung up: local_hangup, transferred, shutdown, error
        self.xfer_sent_at: float | None = None
        self.xfer_answer: tuple[int, str] | None = None  # the REFER's final response (0: none, or not sent)
        self.xfer_answer_reported = False
        self.xfer_progress: list[tuple[int, str, bool]] = []  # (status, reason, final) from NOTIFYs
        self.xfer_failed = False  # a final NOTIFY reported an error status
        self.finished = False

    # -- pjsua2 callbacks (only store) --------------------------------------------------
    def onCallTsxState(self, prm: Any) -> None:
        """Note the final response to our REFER."""
        event = prm.e
        if event.type != pj.PJSIP_EVENT_TSX_STATE:
            return
        tsx = event.body.tsxState.tsx
        if tsx.role == pj.PJSIP_ROLE_UAC and tsx.method == "REFER" and tsx.statusCode >= 200:
            self.xfer_answer = self.xfer_answer or (int(tsx.statusCode), str(tsx.statusText))

    def onCallTransferStatus(self, prm: Any) -> None:
        """Queue a transfer progress report (a NOTIFY's sipfrag status; pjsua reports 100 on acceptance)."""
        self.xfer_progress.append((int(prm.statusCode), str(prm.reason), bool(prm.finalNotify)))

    # -- driven by the agent phone ------------------------------------------------------
    def identity(self) -> dict[str, str]:
        """``from``, ``to`` and the SIP ``call_id``, for events."""
        return {"from": self.remote_uri, "to": self.local_uri, "call_id": self.call_id}

    def reject(self, status: int) -> None:
        """Answer the INVITE with a final error ``status`` (486 Busy Here while another call is up)."""
        with contextlib.suppress(pj.Error):
            self.hangup(_op(status))

    def start(self, number: int, plan: CallPlan, record_path: Path | None) -> None:
        """Take the call as call ``number``: send 180 Ringing; `step` answers it when the plan says."""
        self.number, self.plan, self.record_path = number, plan, record_path
        with contextlib.suppress(pj.Error):
            self.answer(_op(180))

    def step(self, now: float) -> list[Event]:
        """Answer, start media, transfer or hang up as planned; return events to report."""
        events: list[Event] = []
        if self.answered_at is not None and not self.answer_reported:
            self.answer_reported = True
            after_s = round(self.answered_at - self.received_at, 3)
            events.append(("answered", {"call_id": self.call_id, "after_s": after_s}))
        if self.disconnected_at is not None:
            if self.xfer_sent_at is not None and self.xfer_answer is None:
                self.xfer_answer = (0, "no answer to the REFER before the call ended")
            events += self._xfer_events(now)
            return [*events, self._finish()]
        if self.answered_at is None:
            if self.plan.auto_answer and not self.answer_sent and now >= self.received_at + self.plan.answer_delay_s:
                self.answer_sent = True
                try:
                    self.answer(_op(200))
                except pj.Error as exc:
                    events.append(("error", {"message": f"cannot answer: {pj_message(exc)}"}))
                    self.hang_up("error", now)
            return events
        if self.media_ready and not self.media_started:
            events += self._start_media(now)
        self._note_eof(now)
        events += self._xfer_events(now)
        if self.hangup_at is None:
            self._plan_hangup(now)
        return events

    def _plan_hangup(self, now: float) -> None:
        """Transfer or hang up when their time after answer has come."""
        assert self.answered_at is not None
        since = now - self.answered_at
        plan = self.plan
        if plan.transfer_to and self.xfer_sent_at is None and since >= (plan.transfer_after_s or 0.0):
            self.xfer_sent_at = now
            try:
                self.xfer(plan.transfer_to, pj.CallOpParam(True))
            except pj.Error as exc:
                self.xfer_answer = (0, pj_message(exc))
        if plan.hangup_after_s is not None and since >= plan.hangup_after_s:
            self.hang_up("local_hangup", now)

    def _xfer_events(self, now: float) -> list[Event]:
        """Report the REFER's answer and NOTIFY progress; hang up once the transfer is through."""
        events: list[Event] = []
        if self.xfer_answer is not None and not self.xfer_answer_reported:
            self.xfer_answer_reported = True
            status, reason = self.xfer_answer
            fields = {"to": self.plan.transfer_to, "status": status, "reason": reason, "accepted": self.xfer_ok}
            events.append(("transferred", fields))
        for status, reason, final in self.xfer_progress:
            events.append(("transfer_progress", {"status": status, "reason": reason, "final": final}))
            if self.xfer_ok and 200 <= status < 300:
                self.hang_up("transferred", now)
            elif final and status >= 300:
                self.xfer_failed = True  # the target did not take the call: stay on it
        self.xfer_progress = []
        sent = self.xfer_sent_at
        if self.xfer_ok and sent is not None and now >= sent + _XFER_WAIT_S:
            self.hang_up("transferred", now)
        return events

    @property
    def xfer_ok(self) -> bool:
        """True when our REFER got a 2xx and no NOTIFY has reported the transfer failed."""
        accepted = self.xfer_answer is not None and 200 <= self.xfer_answer[0] < 300
        return accepted and not self.xfer_failed

    def _start_media(self, now: float) -> list[Event]:
        """Start recording and playing into the call; return warnings as ``error`` events."""
        self.media_started = True
        events: list[Event] = []
        aud = self.getAudioMedia(-1)
        info = self.getInfo()  # keep it referenced: ``.media`` points into it
        for idx, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO:
                self.codec = self.getStreamInfo(idx).codecName
                break
        if self.record_path is not None:
            try:
                self.recorder = pj.AudioMediaRecorder()
                self.recorder.createRecorder(str(self.record_path))
                aud.startTransmit(self.recorder)
            except pj.Error as exc:
                self.recorder = None
                events.append(("error", {"message": f"not recording {self.record_path}: {pj_message(exc)}"}))
        if self.plan.play is not None:
            try:
                self.player = FilePlayer()
                self.player.createPlayer(str(self.plan.play.path), pj.PJMEDIA_FILE_NO_LOOP)
                self.player.startTransmit(aud)
                self.play_started = now
            except pj.Error as exc:
                self.player = None
                events.append(("error", {"message": f"cannot play {self.plan.play.path}: {pj_message(exc)}"}))
        return events

    def _note_eof(self, now: float) -> None:
        """Note when the played file ran out."""
        if self.play_started is None or self.eof_at is not None or self.plan.play is None:
            return
        assert self.player is not None
        if self.player.eof or now >= self.play_started + self.plan.play.duration_s + _EOF_MARGIN_S:
            self.eof_at = now

    def hang_up(self, cause: str, now: float) -> None:
        """Send BYE (or a final error before answer) once, remembering why."""
        if self.hangup_at is not None or self.disconnected_at is not None:
            return
        self.hangup_at, self.cause = now, cause
        status = 480 if self.answered_at is None else 200  # 480 Temporarily Unavailable while ringing
        with contextlib.suppress(pj.Error):
            self.hangup(_op(status))

    def _end_reason(self) -> str:
        """Why the call ended: ours (`cause`), cancelled, transferred, remote_hangup or failed."""
        if self.cause is not None:
            return self.cause
        if self.answered_at is None:
            return "cancelled" if self.status == 487 else "failed"
        if self.xfer_ok:
            return "transferred"
        return "remote_hangup" if self.remote_bye else "failed"

    def _finish(self) -> Event:
        """Release media and return the ``ended`` event."""
        end = self.disconnected_at or time.monotonic()
        played = 0.0
        if self.play_started is not None and self.plan.play is not None:
            played = min(self.plan.play.duration_s, (self.eof_at or end) - self.play_started)
        recorded = self.recorder is not None
        self.release_media()
        self.finished = True
        return (
            "ended",
            {
                "call_id": self.call_id,
                "reason": self._end_reason(),
                "sip": self.end_reason or None,
                "answered": self.answered_at is not None,
                "duration_s": 0.0 if self.answered_at is None else round(end - self.answered_at, 3),
                "codec": self.codec,
                "played_s": round(max(played, 0.0), 3),
                "record": str(self.record_path) if recorded else None,
            },
        )

    def finish_now(self) -> list[Event]:
        """End the report for a call pjsua never reported disconnected (shutdown gave up waiting)."""
        self.disconnected_at = self.disconnected_at or time.monotonic()
        return [self._finish()]

    def release_media(self) -> None:
        """Drop the player and recorder (the recorder writes its WAV header when dropped)."""
        self.player = None
        self.recorder = None

"""``hotline phone``: a one-call pjsua2 softphone for people and tests."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from hotline.phone.softphone import CallOutcome

app = typer.Typer(help="A softphone for trying Hotline and for tests.", no_args_is_help=True)


class Codec(StrEnum):
    """Codecs the softphone can offer (only the chosen one is offered)."""

    pcmu = "pcmu"
    pcma = "pcma"
    g722 = "g722"


def _fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit-code-2 exception to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _summary(target: str, outcome: CallOutcome) -> str:
    """Return a short human-readable summary of ``outcome``."""
    head = f"{target}: {outcome.status} {outcome.reason}".rstrip()
    if not outcome.answered:
        return head
    parts = [
        f"setup {outcome.setup_ms:.0f} ms",
        f"connected {outcome.duration_s:.1f} s",
        f"codec {outcome.codec or '?'}",
        f"played {outcome.played_s:.1f} s",
        f"hung up by {outcome.hangup_by or '?'}",
    ]
    if outcome.dtmf_sent:
        parts.append(f"DTMF {outcome.dtmf_sent}")
    return f"{head}; " + ", ".join(parts)


@app.command()
def call(
    uri: str = typer.Argument(..., metavar="SIP_URI", help="Who to call, e.g. sip:test@127.0.0.1:5060."),
    play: Path = typer.Option(..., "--play", metavar="FILE", help="Audio file to play (any soundfile format)."),
    codec: Codec = typer.Option(Codec.pcmu, "--codec", help="The only codec offered."),
    dtmf: str = typer.Option("", "--dtmf", metavar="DIGITS", help="RFC 4733 digits sent right after answer."),
    record: Path | None = typer.Option(None, "--record", metavar="OUT.wav", help="Record what we hear."),
    hangup_after: float | None = typer.Option(
        None, "--hangup-after", metavar="S", min=0.0, help="Hang up S seconds after answer."
    ),
    tail: float = typer.Option(1.0, "--tail", metavar="S", min=0.0, help="Silence after the file ends."),
    timeout: float = typer.Option(30.0, "--timeout", metavar="S", min=0.1, help="Give up if no answer."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last stdout line."),
    caller: str = typer.Option("phone", "--caller", metavar="USER", help="From user part, e.g. a phone number."),
) -> None:
    """Place one call, play FILE when answered, then hang up. Exit 0 if answered, 1 if not, 2 on errors."""
    # Imported here so other ``hotline`` commands don't pay for numpy/pjsua2 at start-up.
    from hotline.phone.audio import AudioFileError, prepare_audio
    from hotline.phone.softphone import (
        CallOptions,
        EndpointSettings,
        SoftphoneError,
        clock_rate_for,
        place_call,
    )

    if any(ch not in "0123456789*#ABCDabcd" for ch in dtmf):
        raise _fail(f"invalid DTMF digits {dtmf!r} (allowed: 0-9 * # A-D)")
    if record is not None and (record.suffix.lower() != ".wav" or not record.parent.is_dir()):
        raise _fail(f"cannot record to {record}: need a .wav path in an existing directory")
    try:
        EndpointSettings.for_target(uri, codec.value)
    except SoftphoneError as exc:
        raise _fail(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="hotline-phone-") as tmp:
        try:
            audio = prepare_audio(play, clock_rate_for(codec.value), Path(tmp) / "play.wav")
        except AudioFileError as exc:
            raise _fail(str(exc)) from None
        options = CallOptions(
            codec=codec.value,
            dtmf=dtmf.upper(),
            record_path=record,
            hangup_after_s=hangup_after,
            tail_s=tail,
            timeout_s=timeout,
            caller=caller,
        )
        try:
            outcome = place_call(uri, audio, options)
        except SoftphoneError as exc:
            raise _fail(str(exc)) from None
    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(json.dumps(outcome.to_json()) if as_json else _summary(uri, outcome))
    raise typer.Exit(0 if outcome.answered else 1)


class Transport(StrEnum):
    """SIP transports the agent phone can register and take calls over."""

    udp = "udp"
    tcp = "tcp"


REGISTER_EXIT_CODE = 3


@app.command()
def register(
    address: str = typer.Argument(..., metavar="USER@HOST[:PORT]", help="Who we are, and the registrar."),
    password: str = typer.Option(
        ..., "--password", metavar="P", envvar="HOTLINE_AGENT_PASSWORD", help="Digest password (any realm)."
    ),
    auto_answer: bool = typer.Option(False, "--auto-answer", help="Answer calls (else ring until cancelled)."),
    answer_delay: float = typer.Option(0.0, "--answer-delay", metavar="S", min=0.0, help="Ring S s first."),
    play: Path | None = typer.Option(None, "--play", metavar="FILE", help="Play FILE into each answered call."),
    record: Path | None = typer.Option(
        None, "--record", metavar="OUT.wav", help="Record each call: OUT.wav, then OUT-2.wav, OUT-3.wav, ..."
    ),
    transport: Transport = typer.Option(Transport.udp, "--transport", help="SIP transport."),
    expires: int = typer.Option(
        600, "--expires", metavar="S", min=10, help="Registration expiry asked for (refreshed 5 s before)."
    ),
    hangup_after: float | None = typer.Option(
        None, "--hangup-after", metavar="S", min=0.0, help="Hang up S seconds after answer."
    ),
    transfer_to: str | None = typer.Option(None, "--transfer-to", metavar="URI", help="Blind transfer (REFER)."),
    transfer_after: float | None = typer.Option(
        None, "--transfer-after", metavar="S", min=0.0, help="Send the REFER S seconds after answer."
    ),
    max_calls: int | None = typer.Option(
        None, "--max-calls", metavar="N", min=1, help="Unregister and exit after N calls ended."
    ),
    codec: Codec = typer.Option(Codec.pcmu, "--codec", help="The only codec accepted."),
    local_port: int = typer.Option(0, "--local-port", metavar="PORT", min=0, max=65535, help="SIP port (0: any)."),
    register_timeout: float = typer.Option(
        10.0, "--register-timeout", metavar="S", min=0.1, help="Give up if the registrar does not answer."
    ),
) -> None:
    """Register as an agent phone and take one call at a time (a second caller gets 486 Busy Here).

    Prints one JSON object per event on stdout (registered, incoming, answered, busy, transferred,
    transfer_progress, ended, registration_failed, error, unregistered). Runs until SIGINT/SIGTERM or
    --max-calls, then unregisters and exits 0. Exit 3 when registration fails, 2 on other errors.
    """
    from hotline.phone.agent import AgentAddress, AgentOptions, JsonEvents, RegistrationError, run_agent
    from hotline.phone.audio import AudioFileError, PreparedAudio, prepare_audio
    from hotline.phone.softphone import SoftphoneError, clock_rate_for

    if answer_delay > 0 and not auto_answer:
        raise _fail("--answer-delay needs --auto-answer")
    if (transfer_to is None) != (transfer_after is None):
        raise _fail("--transfer-to and --transfer-after go together")
    if transfer_to is not None and not transfer_to.lower().startswith(("sip:", "sips:", "<sip")):
        raise _fail(f"not a SIP URI: {transfer_to!r}")
    if record is not None and (record.suffix.lower() != ".wav" or not record.parent.is_dir()):
        raise _fail(f"cannot record to {record}: need a .wav path in an existing directory")
    if not password:
        raise _fail("--password must not be empty")
    try:
        agent_address = AgentAddress.parse(address)
    except SoftphoneError as exc:
        raise _fail(str(exc)) from None
    # Events go to a duplicate of stdout: the endpoint points fd 1 at stderr to keep pjlib's logs off it.
    events = JsonEvents(os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="hotline-agent-") as tmp:
        audio: PreparedAudio | None = None
        if play is not None:
            try:
                audio = prepare_audio(play, clock_rate_for(codec.value), Path(tmp) / "play.wav")
            except AudioFileError as exc:
                raise _fail(str(exc)) from None
        options = AgentOptions(
            password=password,
            transport=transport.value,
            codec=codec.value,
            local_port=local_port,
            expires_s=expires,
            register_timeout_s=register_timeout,
            auto_answer=auto_answer,
            answer_delay_s=answer_delay,
            play=audio,
            record_path=record,
            hangup_after_s=hangup_after,
            transfer_to=transfer_to,
            transfer_after_s=transfer_after,
            max_calls=max_calls,
        )
        try:
            run_agent(agent_address, options, events)
        except RegistrationError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(REGISTER_EXIT_CODE) from None
        except SoftphoneError as exc:
            raise _fail(str(exc)) from None

"""``hotline phone``: a one-call pjsua2 softphone for people and tests."""

from __future__ import annotations

import json
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

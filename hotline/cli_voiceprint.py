"""``hotline voiceprint``: calibrate the voiceprint engine (enrol/verify/delete via the API come later)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from biometrics.backends import load_embedder
from biometrics.dataset import FSDD_PATTERN, speaker_files
from biometrics.errors import BiometricsError
from biometrics.pooling import SegmentEncoder
from biometrics.protocol import Protocol, calibrate
from biometrics.settings import BiometricsSettings

app = typer.Typer(help="Voice biometrics: voiceprint calibration, enrolment and verification.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Voice biometrics: voiceprint calibration, enrolment and verification."""


class NormChoice(StrEnum):
    """Score normalisation offered on the command line."""

    snorm = "snorm"
    asnorm = "asnorm"
    none = "none"


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print one ``error: message`` line on stderr and return the exit exception to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command("calibrate")
def calibrate_cmd(
    directory: Path = typer.Argument(..., metavar="DIR", help="One folder per speaker, or a flat folder (see "
                                     "--fsdd / --flat-pattern)."),
    target_far: float = typer.Option(0.01, "--target-far", min=1e-6, max=0.5, help="False-accept rate to set "
                                     "the threshold for."),
    norm: NormChoice = typer.Option(NormChoice.none, "--norm", help="Score normalisation: none (raw cosine, "
                                    "measured best on real telephone speech), snorm or asnorm."),
    out: Path = typer.Option(Path("voiceprint-calibration.json"), "--out", metavar="FILE",
                             help="Calibration JSON to write."),
    cohort_out: Path | None = typer.Option(None, "--cohort-out", metavar="FILE", help="Cohort .npz to write "
                                           "(default: next to --out as <name>-cohort.npz; not written for "
                                           "--norm none unless given)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the file shuffle and of the leave-two-out draw."),
    fsdd: bool = typer.Option(False, "--fsdd", help=f"Flat FSDD-style folder: {FSDD_PATTERN}."),
    flat_pattern: str | None = typer.Option(None, "--flat-pattern", metavar="PATTERN",
                                            help="Flat folder whose names match PATTERN, e.g. "
                                            "'{digit}_{speaker}_{index}.wav' (needs a {speaker} field)."),
    enroll_s: float | None = typer.Option(None, "--enroll-s", min=0.5, help="Speech per enrolment (default: "
                                          "min_enroll_speech_s, 6 s)."),
    probe_s: float | None = typer.Option(None, "--probe-s", min=0.5, help="Speech per probe (default: "
                                         "verify_min_speech_s, 3 s: the first passive decision)."),
    enrollments: int = typer.Option(3, "--enrollments", min=1, help="Enrolments per speaker."),
    cohort_share: float = typer.Option(0.3, "--cohort-share", min=0.0, max=0.9, help="Share of each speaker's "
                                       "files kept for the cohort."),
    cohort_entry_s: float | None = typer.Option(None, "--cohort-entry-s", min=0.5, help="Speech per cohort "
                                                "entry (default: cohort_entry_speech_s, 3 s)."),
    top_k: int | None = typer.Option(None, "--top-k", min=1, help="AS-norm K (default: asnorm_top_k, 50)."),
    pooling: str = typer.Option("concat", "--pooling", help="concat (embed all speech at once) or segments."),
    channel: str = typer.Option("none", "--channel", help="none: the files are call audio already (Hotline's "
                                "recordings); PCMU or PCMA: pass each file through 8 kHz G.711 first, as a "
                                "caller's voice would be."),
    backend: str = typer.Option("resemblyzer", "--backend", help="resemblyzer or speechbrain."),
    speechbrain_source: str | None = typer.Option(None, "--speechbrain-source", metavar="DIR",
                                                  help="Local ECAPA model directory for --backend speechbrain."),
) -> None:
    """Measure EER and set the threshold for --target-far on DIR; write the calibration (and cohort)."""
    try:
        settings = BiometricsSettings.model_validate(
            {"backend": backend, "speechbrain_source": speechbrain_source, "pooling": pooling})
        if channel not in ("none", "PCMU", "PCMA"):
            raise ValueError(f"--channel must be none, PCMU or PCMA, not {channel!r}")
    except ValueError as exc:
        raise _fail(f"invalid option: {exc}", 2) from None
    pattern = flat_pattern or (FSDD_PATTERN if fsdd else None)
    proto = Protocol(
        enroll_speech_s=enroll_s or settings.min_enroll_speech_s,
        probe_speech_s=probe_s or settings.verify_min_speech_s,
        enrollments_per_speaker=enrollments, cohort_share=cohort_share,
        cohort_entry_speech_s=cohort_entry_s or settings.cohort_entry_speech_s,
        top_k=top_k or settings.asnorm_top_k, seed=seed,
        vad_aggressiveness=settings.vad_aggressiveness, vad_padding_ms=settings.vad_padding_ms,
        channel=channel,  # type: ignore[arg-type]  # checked above
    )
    console = Console()
    try:
        speakers = speaker_files(directory, pattern)
        console.print(f"{len(speakers)} speakers, {sum(len(v) for v in speakers.values())} files in {directory}")
        encoder = SegmentEncoder(load_embedder(settings), settings.pooling)
        columns = (TextColumn("{task.description:14}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            cal, cohort = calibrate(encoder, speakers, proto, norm.value, target_far, progress)
    except (BiometricsError, ValueError) as exc:
        raise _fail(str(exc)) from None
    cal.save(out)
    cohort_path = cohort_out or (out.with_name(out.stem + "-cohort.npz") if norm != NormChoice.none else None)
    if cohort_path is not None:
        cohort.save(cohort_path)
    _report(console, cal.protocol, cal.eer, cal.threshold, cal.far, cal.frr, target_far, norm.value)
    console.print(f"calibration: {out}" + (f"\ncohort: {cohort_path} ({len(cohort)} entries)" if cohort_path else ""))


def _report(console: Console, protocol: dict[str, object], eer: float, threshold: float, far: float, frr: float,
            target_far: float, norm: str) -> None:
    table = Table(title=f"Voiceprint calibration ({norm})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("EER", f"{eer:.2%}")
    table.add_row(f"threshold for FAR {target_far:.2%}", f"{threshold:.4f}")
    table.add_row("FAR at threshold", f"{far:.2%}")
    table.add_row("FRR at threshold", f"{frr:.2%}")
    for key in ("speakers", "enrollments", "probes", "cohort_entries", "target_trials", "nontarget_trials"):
        table.add_row(key.replace("_", " "), str(protocol.get(key, "-")))
    console.print(table)
    console.print(f"EER {eer:.2%}  FAR {far:.2%}  FRR {frr:.2%}  threshold {threshold:.4f}")


# Subcommands that talk to the REST API (enroll, verify, delete) are added below by the API work:
# they will take --api/--key options like `hotline phone`, and must not import torch at module level.

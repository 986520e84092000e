"""``hotline voiceprint enroll|verify|delete``: batch work through the REST API, with a progress bar."""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import typer

ApiOpt = typer.Option("http://127.0.0.1:8080", "--api", envvar="HOTLINE_API", help="Hotline base URL.")
KeyOpt = typer.Option(None, "--key", envvar="HOTLINE_API_KEY", help="API key (security role to enrol/delete).")
ManifestOpt = typer.Option(None, "--manifest", help="CSV with rows customer_id,audio_path (batch mode).")


def _client(api: str, key: str | None) -> Any:
    import httpx

    if not key:
        typer.echo("error: an API key is needed: --key KEY or HOTLINE_API_KEY", err=True)
        raise typer.Exit(2)
    return httpx.Client(base_url=api.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=300)


def _jobs(customer: str | None, files: list[Path], manifest: Path | None) -> dict[str, list[Path]]:
    jobs: dict[str, list[Path]] = defaultdict(list)
    if manifest is not None:
        with manifest.open(newline="") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) < 2:
                    typer.echo(f"error: {manifest}:{n}: expected customer_id,audio_path", err=True)
                    raise typer.Exit(2)
                jobs[row[0].strip()].append(Path(row[1].strip()))
    if customer:
        jobs[customer].extend(files)
    if not jobs:
        typer.echo("error: name a customer and files, or give --manifest", err=True)
        raise typer.Exit(2)
    missing = [str(p) for paths in jobs.values() for p in paths if not p.is_file()]
    if missing:
        typer.echo(f"error: no such file: {', '.join(missing[:5])}", err=True)
        raise typer.Exit(2)
    return jobs


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    transient=False, disable=not os.isatty(2))


def _report(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        typer.echo(json.dumps(row))
    failed = sum(1 for r in rows if r.get("status", 200) >= 400)
    typer.echo(f"{len(rows) - failed} ok, {failed} failed", err=True)
    if failed:
        raise typer.Exit(1)


def enroll(
    customer: str | None = typer.Argument(None, help="Customer id (or use --manifest)."),
    files: list[Path] = typer.Argument(None, help="WAV/FLAC files of that customer."),
    consent: Path = typer.Option(..., "--consent", help="JSON file: given_by, given_at, method, wording_version."),
    manifest: Path | None = ManifestOpt,
    api: str = ApiOpt,
    key: str | None = KeyOpt,
) -> None:
    """Enrol voiceprints (one per customer, from all of that customer's files)."""
    jobs = _jobs(customer, list(files or []), manifest)
    consent_text = consent.read_text()
    rows = []
    with _client(api, key) as http, _progress() as bar:
        task = bar.add_task("enrolling", total=len(jobs))
        for cid, paths in jobs.items():
            upload = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
            r = http.post(f"/api/v1/customers/{cid}/voiceprint", data={"consent": consent_text}, files=upload)
            rows.append({"customer_id": cid, "status": r.status_code, "result": _body(r)})
            bar.advance(task)
    _report(rows)


def verify(
    customer: str | None = typer.Argument(None, help="Customer id (or use --manifest)."),
    files: list[Path] = typer.Argument(None, help="Recordings to check, one result each."),
    manifest: Path | None = ManifestOpt,
    api: str = ApiOpt,
    key: str | None = KeyOpt,
) -> None:
    """Verify recordings against customers' voiceprints; one JSON line per recording."""
    jobs = _jobs(customer, list(files or []), manifest)
    rows = []
    with _client(api, key) as http, _progress() as bar:
        task = bar.add_task("verifying", total=sum(len(p) for p in jobs.values()))
        for cid, paths in jobs.items():
            for p in paths:
                r = http.post("/api/v1/voiceprints/verify", data={"customer_id": cid},
                              files={"file": (p.name, p.read_bytes(), "application/octet-stream")})
                rows.append({"customer_id": cid, "file": str(p), "status": r.status_code, "result": _body(r)})
                bar.advance(task)
    _report(rows)


def delete(
    customers: list[str] = typer.Argument(..., help="Customer ids whose voiceprints to delete."),
    api: str = ApiOpt,
    key: str | None = KeyOpt,
) -> None:
    """Hard-delete voiceprints."""
    rows = []
    with _client(api, key) as http, _progress() as bar:
        task = bar.add_task("deleting", total=len(customers))
        for cid in customers:
            r = http.delete(f"/api/v1/customers/{cid}/voiceprint")
            rows.append({"customer_id": cid, "status": r.status_code, "result": _body(r) if r.content else None})
            bar.advance(task)
    _report(rows)


def _body(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return r.text


def register(app: typer.Typer) -> None:
    """Add the API-backed commands to the ``voiceprint`` group."""
    app.command("enroll")(enroll)
    app.command("verify")(verify)
    app.command("delete")(delete)

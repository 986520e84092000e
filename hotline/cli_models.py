"""``hotline models``: list, pull and locate speech models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from asr.models import DownloadError, ModelError, list_models, pull, resolve_model
from asr.settings import AsrSettings

app = typer.Typer(help="Speech recognition models.", no_args_is_help=True)

CACHE_DIR_HELP = "Model cache directory (default: $XDG_CACHE_HOME/hotline/models)."


def _cache_dir(cache_dir: Path | None) -> Path:
    """Return ``cache_dir`` or the configured default."""
    return cache_dir if cache_dir is not None else AsrSettings().cache_dir


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print one ``error: message`` line on stderr and return the exit exception to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command("list")
def list_(
    cache_dir: Path | None = typer.Option(None, "--cache-dir", metavar="DIR", help=CACHE_DIR_HELP),
) -> None:
    """Show the known models and whether they are installed."""
    table = Table(title="Speech models")
    table.add_column("name", no_wrap=True)
    table.add_column("language")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("installed")
    table.add_column("path", overflow="fold")
    for st in list_models(_cache_dir(cache_dir)):
        table.add_row(
            st.name,
            st.language,
            f"{st.size_class} ~{st.size_mb} MB",
            "[green]yes[/green]" if st.installed else "no",
            str(st.path) if st.path else "-",
        )
    Console().print(table)


@app.command("pull")
def pull_(
    name: str = typer.Argument(..., metavar="NAME", help="Registry name, see `hotline models list`."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", metavar="DIR", help=CACHE_DIR_HELP),
) -> None:
    """Download, verify and unpack model NAME (an interrupted download resumes)."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    downloaded = False
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task: TaskID | None = None

        def report(done: int, total: int | None) -> None:
            nonlocal task, downloaded
            downloaded = True
            if task is None:
                task = bar.add_task(name, total=total)
            bar.update(task, completed=done, total=total)

        try:
            path = pull(name, _cache_dir(cache_dir), progress=report)
        except DownloadError as exc:
            resume = f"; run `hotline models pull {name}` again to resume" if exc.resumable else ""
            raise _fail(f"{exc}{resume}") from None
        except ModelError as exc:
            raise _fail(str(exc)) from None
        except OSError as exc:
            raise _fail(f"cannot install {name}: {exc}") from None
        except KeyboardInterrupt:
            raise _fail(f"interrupted; run `hotline models pull {name}` again to resume", 130) from None
    verb = "installed" if downloaded else "already installed"
    typer.echo(f"{name} {verb}: {path}")


@app.command("path")
def path_(
    name_or_dir: str = typer.Argument(..., metavar="NAME_OR_DIR", help="Registry name or model directory."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", metavar="DIR", help=CACHE_DIR_HELP),
) -> None:
    """Print the directory of an installed model (exit 1 if it is not available)."""
    try:
        typer.echo(str(resolve_model(name_or_dir, _cache_dir(cache_dir))))
    except ModelError as exc:
        raise _fail(str(exc)) from None

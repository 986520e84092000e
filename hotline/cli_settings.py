"""Settings for CLI commands: the --config option, flag overrides, and loading with clear errors (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

ConfigOpt = typer.Option(None, "--config", "-c", help="YAML config (default: $HOTLINE_CONFIG or the bundled one).")


def load(config: Path | None, overrides: dict[str, Any]) -> Any:
    """The settings (``app.config.Settings``) from ``config`` and ``overrides``; exit 2 with the reason if invalid."""
    from app.config import ConfigError, load_settings  # lazy: --help must not load the whole server

    try:
        return load_settings(config, overrides)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:  # pydantic validation
        typer.echo(f"error: invalid configuration:\n{exc}", err=True)
        raise typer.Exit(2) from None


def override(tree: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``tree[a][b] = value`` for ``dotted`` ``a.b``, unless the flag was not given (None)."""
    if value is None:
        return
    *parents, leaf = dotted.split(".")
    node = tree
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value

"""Reading the engine's YAML files and turning pydantic errors into one line a person can act on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


def read_yaml(path: Path, error: Callable[[Path, str], Exception]) -> dict[str, Any]:
    """The top-level mapping of a YAML file; any failure becomes ``error(path, reason)``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(path, f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise error(path, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(path, f"invalid YAML{at}: {problem}") from exc
    if not isinstance(raw, dict):
        raise error(path, f"expected a mapping at the top level, got {type(raw).__name__}")
    return raw


def describe(exc: ValidationError, raw: dict[str, Any], list_key: str, noun: str) -> str:
    """Every error of ``exc`` as "<noun> #2 'card-lost' field triggers.uk: reason", joined by "; "."""
    return "; ".join(_one(list(err["loc"]), str(err["msg"]), raw, list_key, noun) for err in exc.errors())


def _one(loc: list[Any], msg: str, raw: dict[str, Any], list_key: str, noun: str) -> str:
    where = ".".join(str(p) for p in loc) or "(top level)"
    if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
        idx, items = loc[1], raw.get(list_key)
        item = items[idx] if isinstance(items, list) and idx < len(items) else None
        item_id = item.get("id") if isinstance(item, dict) else None
        rest = ".".join(str(p) for p in loc[2:]) or f"({noun})"
        where = f"{noun} #{idx + 1}" + (f" {item_id!r}" if item_id else "") + f" field {rest}"
    return f"{where}: {msg}"


def first_item_id(exc: ValidationError, raw: dict[str, Any], list_key: str) -> str | None:
    """The ``id`` of the list item the first error is in, if it has one."""
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
            items = raw.get(list_key)
            item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                return str(item["id"])
    return None

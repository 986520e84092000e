"""The ``hotline`` command line."""

from __future__ import annotations

import typer

from hotline.cli_models import app as models_app
from hotline.cli_phone import app as phone_app

app = typer.Typer(help="Hotline: SIP voice server for a customer-service hotline.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(phone_app, name="phone")


def main() -> None:
    """Console-script entry point."""
    app()

"""``hotline models``: list, pull and locate speech models."""

import typer

app = typer.Typer(help="Speech recognition models.", no_args_is_help=True)

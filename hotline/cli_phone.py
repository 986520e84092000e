"""``hotline phone``: a one-call pjsua2 softphone for people and tests."""

import typer

app = typer.Typer(help="A softphone for trying Hotline and for tests.", no_args_is_help=True)

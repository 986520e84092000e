"""The ``hotline`` command line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from hotline.cli_agents import app as agents_app
from hotline.cli_keys import app as keys_app
from hotline.cli_models import app as models_app
from hotline.cli_phone import app as phone_app
from hotline.cli_settings import ConfigOpt, load, override
from hotline.cli_voiceprint import app as voiceprint_app
from hotline.cli_voiceprint_api import register as register_voiceprint_api

app = typer.Typer(help="Hotline: SIP voice server for a customer-service hotline.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(phone_app, name="phone")
register_voiceprint_api(voiceprint_app)
app.add_typer(voiceprint_app, name="voiceprint")
app.add_typer(keys_app, name="keys")
app.add_typer(agents_app, name="agents")

DbOpt = typer.Option(None, "--db", help="Database URL, e.g. sqlite:///var/hotline.db or postgresql+psycopg://...")


@app.command()
def serve(
    config: Path | None = ConfigOpt,
    sip_host: str | None = typer.Option(None, "--sip-host", help="SIP bind address."),
    sip_port: int | None = typer.Option(None, "--sip-port", help="SIP port (UDP and TCP)."),
    http_host: str | None = typer.Option(None, "--http-host", help="HTTP bind address."),
    http_port: int | None = typer.Option(None, "--http-port", help="HTTP port."),
    rtp_ports: str | None = typer.Option(None, "--rtp-ports", help="RTP port range A-B."),
    db: str | None = DbOpt,
    asr_model: str | None = typer.Option(None, "--asr-model", help="Model name or directory."),
) -> None:
    """Run the SIP server and HTTP API."""
    from app.server import Hotline
    from hotline.logs import setup_logging

    over: dict[str, Any] = {}
    override(over, "sip.host", sip_host)
    override(over, "sip.port", sip_port)
    override(over, "http.host", http_host)
    override(over, "http.port", http_port)
    override(over, "store.url", db)
    override(over, "asr.model", asr_model)
    if rtp_ports:
        low, sep, high = rtp_ports.partition("-")
        if not sep or not low.isdigit() or not high.isdigit() or int(low) >= int(high):
            typer.echo(f"error: --rtp-ports must look like 20000-30000, got {rtp_ports!r}", err=True)
            raise typer.Exit(2)
        override(over, "media.rtp_port_min", int(low))
        override(over, "media.rtp_port_max", int(high))
    settings = load(config, over)
    setup_logging(settings.log.level, settings.log.json_format)
    from voice.stack import SipStartError

    try:
        asyncio.run(Hotline(settings).serve())
    except SipStartError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def main() -> None:
    """Console-script entry point."""
    app()

"""`tdz zwiftpower …`: let an organiser test their ZwiftPower credentials before the hourly runs depend on them."""

from __future__ import annotations

import asyncio
import json

import typer

from tdz.ingest.sources.http import FetchFailed, NotFound
from tdz.ingest.sources.zwiftpower import ZwiftPowerClient, ZwiftPowerLoginError
from tdz.settings import Settings

zwiftpower_app = typer.Typer(help="ZwiftPower: check the login and fetching.", no_args_is_help=True)


@zwiftpower_app.callback()
def _group() -> None:
    """ZwiftPower: check the login and fetching."""


async def _read_event(settings: Settings, event_id: int) -> tuple[int, str, str]:
    zp = ZwiftPowerClient.from_settings(settings)
    try:
        body, url = await zp.event_results(event_id)
        how = "logged in" if zp.logins else "reused the saved session or pasted cookie"
    finally:
        await zp.aclose()
    data = json.loads(body)
    return len(data.get("data", [])), url, how


@zwiftpower_app.command()
def check(event: int = typer.Option(..., "--event", help="A Zwift event id that has results on ZwiftPower.")) -> None:
    """Log in with the settings' credentials (or cookie), fetch one event's results and say how many rows came."""
    settings = Settings()
    try:
        rows, url, how = asyncio.run(_read_event(settings, event))
    except ZwiftPowerLoginError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except NotFound:
        typer.echo(f"event {event}: ZwiftPower has no results for this event (yet)", err=True)
        raise typer.Exit(1) from None
    except FetchFailed as exc:
        typer.echo(f"event {event}: ZwiftPower did not answer: {exc.reason} ({exc.url})", err=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        typer.echo(f"event {event}: ZwiftPower's answer is not usable JSON ({exc})", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"event {event}: {rows} result rows read from {settings.zwiftpower_url}{url} ({how})")

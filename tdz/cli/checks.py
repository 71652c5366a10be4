"""`tdz zwiftpower check`, `tdz sheet check|init` and `tdz looker-link`: an organiser checks each outside system
before the hourly runs depend on it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tdz.cli.output import err, out, reporting
from tdz.errors import TdzError
from tdz.settings import Settings, load_settings

zwiftpower_app = typer.Typer(help="ZwiftPower: check the login and fetching.", no_args_is_help=True)
sheet_app = typer.Typer(help="The Google Sheet: check access, set up a new one.", no_args_is_help=True)


@zwiftpower_app.callback()
def _zwiftpower() -> None:
    """ZwiftPower: check the login and fetching."""


async def _read_event(settings: Settings, event_id: int) -> tuple[int, str, str]:
    from tdz.ingest.sources import Sources

    async with Sources.open(settings) as sources:
        body, url = await sources.zwiftpower.event_results(event_id)
        how = "logged in" if sources.logins else "reused the saved session or pasted cookie"
    data = json.loads(body)
    return len(data.get("data", [])), url, how


@zwiftpower_app.command()
@reporting
def check(event: int = typer.Option(..., "--event", help="A Zwift event id that has results on ZwiftPower.")) -> None:
    """Log in with the settings' credentials (or cookie), fetch one event's results and say how many rows came."""
    from tdz.ingest.sources import FetchFailed, NotFound

    settings = load_settings()
    try:
        rows, url, how = asyncio.run(_read_event(settings, event))
    except NotFound:
        raise TdzError(f"event {event}: ZwiftPower has no results for this event (yet)") from None
    except FetchFailed as exc:
        raise TdzError(f"event {event}: ZwiftPower did not answer: {exc.reason} ({exc.url})") from None
    except ValueError as exc:
        raise TdzError(f"event {event}: ZwiftPower's answer is not usable JSON ({exc})") from None
    out.print(escape(f"event {event}: {rows} result rows read from {settings.zwiftpower_url}{url} ({how})"))


@sheet_app.command("check")
@reporting
def sheet_check() -> None:
    """Say exactly what stops tdz from using the Sheet: key, Sheet id, or sharing."""
    from tdz.publish.workbook.sheets_auth import check_sheet

    result = check_sheet(load_settings())
    if result.problems:
        for problem in result.problems:
            err.print(f"[red]✗[/red] {escape(problem)}")
        raise typer.Exit(1)
    out.print(escape(f"✓ {result.service_account} can edit “{result.title}” ({len(result.tabs)} tabs)"))
    if result.missing_organiser_tabs:
        out.print(escape(f"  organiser tabs still to create: {', '.join(result.missing_organiser_tabs)} "
                         "(`tdz sheet init`, or the first run, adds them)"))


@sheet_app.command()
@reporting
def init(
    season: Annotated[Path | None, typer.Option(help="Season file: its output tabs are created too.")] = None,
) -> None:
    """Set up a new Sheet: organiser tabs with notes and dropdowns; output tabs frozen and protected."""
    from tdz.publish.tables import output_tables_for
    from tdz.publish.workbook.sheets import SheetsWorkbook
    from tdz.season import load_season

    outputs = output_tables_for(load_season(season).scoring.kind) if season is not None else []
    workbook = SheetsWorkbook(load_settings())
    created = workbook.init_sheet(outputs)
    out.print(escape(f"created {', '.join(created)}" if created else "nothing to do: every tab is already there"))
    out.print(workbook.location)


@reporting
def looker_link(
    template: Annotated[str | None, typer.Option(help="Template report id (its data source aliases = tab names).")]
    = None,
    name: Annotated[str, typer.Option(help="Name of the new report.")] = "Club series results",
) -> None:
    """Print the Looker Studio link that creates a report on the Sheet's output tabs (by gid)."""
    from tdz.publish.looker import create_report_url, main_tab
    from tdz.publish.tables import OUTPUT_TABLES
    from tdz.publish.workbook.sheets import SheetsWorkbook

    workbook = SheetsWorkbook(load_settings())
    gids = workbook.output_tab_gids(OUTPUT_TABLES)
    if not gids:
        raise TdzError(f"no output tabs in {workbook.location} yet: run a publish (or `tdz sheet init --season "
                       "…`) first")
    out.print(create_report_url(workbook.sheet_id, gids, report_name=name, template_report_id=template),
              soft_wrap=True)
    if template is None:
        first = main_tab(gids)
        err.print(f"\nThe link connects `{first}`; add the other tabs in the report with Add data → Google Sheets:")
        for tab, gid in gids.items():
            if tab != first:
                err.print(escape(f"  {tab}  (gid {gid}: {workbook.location}/edit#gid={gid})"))

"""`tdz sheet check`, `tdz sheet init` and `tdz looker-link`: a thin layer over tdz.publish.workbook.sheets and tdz.publish.looker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tdz.publish.looker import create_report_url, main_tab
from tdz.publish.tables import OUTPUT_TABLES, output_tables_for
from tdz.publish.workbook.sheets import SheetsWorkbook
from tdz.publish.workbook.sheets_auth import SheetsError, check_sheet
from tdz.season import SeasonFileError, load_season
from tdz.settings import Settings

sheet_app = typer.Typer(help="The Google Sheet: check access, set up a new one.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


@sheet_app.command()
def check() -> None:
    """Say exactly what stops tdz from using the Sheet: key, Sheet id, or sharing."""
    result = check_sheet(Settings())
    if result.problems:
        for problem in result.problems:
            typer.secho(f"✗ {problem}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"✓ {result.service_account} can edit “{result.title}” ({len(result.tabs)} tabs)")
    if result.missing_organiser_tabs:
        typer.echo(f"  organiser tabs still to create: {', '.join(result.missing_organiser_tabs)} "
                   "(`tdz sheet init`, or the first run, adds them)")


@sheet_app.command()
def init(
    season: Annotated[Path | None, typer.Option(help="Season file: its output tabs are created too.")] = None,
) -> None:
    """Set up a new Sheet: organiser tabs with notes and dropdowns; output tabs frozen and protected."""
    outputs = []
    if season is not None:
        try:
            outputs = output_tables_for(load_season(season).scoring.kind)
        except (SeasonFileError, OSError) as err:
            raise _fail(str(err)) from err
    try:
        workbook = SheetsWorkbook(Settings())
        created = workbook.init_sheet(outputs)
    except SheetsError as err:
        raise _fail(str(err)) from err
    typer.echo(f"created {', '.join(created)}" if created else "nothing to do: every tab is already there")
    typer.echo(workbook.location)


def looker_link_command(
    template: Annotated[str | None, typer.Option(help="Template report id (its data source aliases = tab names).")]
    = None,
    name: Annotated[str, typer.Option(help="Name of the new report.")] = "Club series results",
) -> None:
    """Print the Looker Studio link that creates a report on the Sheet's output tabs (by gid)."""
    try:
        workbook = SheetsWorkbook(Settings())
        gids = workbook.output_tab_gids(OUTPUT_TABLES)
        url = create_report_url(workbook.sheet_id, gids, report_name=name, template_report_id=template)
    except (SheetsError, ValueError) as err:
        raise _fail(str(err)) from err
    typer.echo(url)
    if template is None:
        first = main_tab(gids)
        typer.echo(f"\nThe link connects `{first}`; add the other tabs in the report with Add data → Google Sheets:",
                   err=True)
        for tab, gid in gids.items():
            if tab != first:
                typer.echo(f"  {tab}  (gid {gid}: {workbook.location}/edit#gid={gid})", err=True)

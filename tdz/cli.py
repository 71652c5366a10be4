"""The `tdz` command: a thin layer over the same functions and flows the deployments run."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table as RichTable

from tdz.cli_sheets import looker_link_command, sheet_app
from tdz.cli_sources import zwiftpower_app
from tdz.publish.report import RunSummary
from tdz.season import SeasonFileError, load_season
from tdz.settings import Settings

app = typer.Typer(help="tdz: score club Zwift race series from ZwiftPower results.", no_args_is_help=True,
                  add_completion=False)
app.add_typer(zwiftpower_app, name="zwiftpower")
app.add_typer(sheet_app, name="sheet")
app.command("looker-link")(looker_link_command)
console = Console()

SHIPPED_SEASONS = ("ctt-winter-2025-26.toml", "kwcc-tdz-2026.toml")


def _print_summary(summary: RunSummary) -> None:
    console.print(
        f"[bold]{summary.season_name}[/bold] ({summary.season_id}): {summary.riders} riders, "
        f"{summary.efforts} efforts, {summary.rounds_with_results}/{summary.rounds} rounds with results, "
        f"{summary.problems} problems, as of {summary.as_of or '—'}"
    )
    table = RichTable(title=summary.leaders_title, title_justify="left")
    table.add_column("place", justify="right")
    table.add_column("rider")
    table.add_column("score", justify="right")
    for leader in summary.leaders:
        table.add_row(str(leader.place), leader.rider_name, leader.score)
    console.print(table)
    console.print(f"workbook: {summary.workbook}\n")


@app.command()
def demo(
    seed: int = typer.Option(2026, help="Seed of the generated demo season."),
) -> None:
    """Generate the bundled demo seasons (if absent), score them and write out/<season>.xlsx."""
    from flows.params import RunParameters
    from flows.rescore_season import rescore_season
    from tdz.demo import ensure_demo
    from tdz.publish.tables import ORGANISER_TABS
    from tdz.publish.workbook import open_workbook

    settings = Settings()
    if settings.workbook != "xlsx":
        console.print(f"[yellow]the demo writes local workbooks; ignoring TDZ_WORKBOOK={settings.workbook}[/yellow]")
        settings = settings.model_copy(update={"workbook": "xlsx"})
    started = time.perf_counter()
    for name in SHIPPED_SEASONS:
        season_file = settings.seasons_dir / name
        season = _load_or_exit(season_file)
        with console.status(f"{season.id}: preparing the demo archive"):
            demo_season = ensure_demo(season, settings.archive_dir, seed=seed)
            open_workbook(settings, season.id).ensure_organiser_tabs(
                list(ORGANISER_TABS.values()), seed=demo_season.organiser_seed
            )
        with console.status(f"{season.id}: scoring"):
            summary = asyncio.run(rescore_season(run=RunParameters(season_file=str(season_file), target="local")))
        _print_summary(summary)
    console.print(f"done in {time.perf_counter() - started:.1f} s")


def _run_parameters(season: Path, event: int | None, round_: str | None, target: str | None, dry_run: bool):
    from pydantic import ValidationError

    from flows.params import RunParameters

    mode = "event" if event is not None else "round" if round_ is not None else "all"
    try:
        return RunParameters(season_file=str(season), mode=mode, event_id=event, round=round_, target=target,
                             dry_run=dry_run, fetch_retries=0)
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]{error['msg'].removeprefix('Value error, ')}[/red]", highlight=False)
        raise typer.Exit(2) from None


SEASON_OPTION = typer.Option(..., "--season", help="Season file, e.g. seasons/kwcc-tdz-2026.toml.")
TARGET_OPTION = typer.Option(None, "--target", help="local, dev or prod (deployments/<target>.toml); default: settings.")
DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Score and report, but write nothing to the workbook.")


@app.command()
def run(
    season: Path = SEASON_OPTION,
    event: int | None = typer.Option(None, "--event", help="Only this Zwift event id."),
    round_: str | None = typer.Option(None, "--round", "--stage", help="Only this round or stage."),
    target: str | None = TARGET_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
) -> None:
    """Discover, fetch, score and publish a season: the hourly `update-season` flow, run here once."""
    from flows.update_season import update_season

    if event is not None and round_ is not None:
        console.print("[red]give --event or --round, not both[/red]")
        raise typer.Exit(2)
    _print_summary(asyncio.run(update_season(run=_run_parameters(season, event, round_, target, dry_run))))


@app.command()
def rescore(season: Path = SEASON_OPTION, target: str | None = TARGET_OPTION, dry_run: bool = DRY_RUN_OPTION) -> None:
    """Re-read the organiser tabs, score the season from the archive and publish (the `rescore-season` flow)."""
    from flows.rescore_season import rescore_season

    _print_summary(asyncio.run(rescore_season(run=_run_parameters(season, None, None, target, dry_run))))


prefect_app = typer.Typer(help="Prefect: secrets, limits and the work pool the deployments need.",
                          no_args_is_help=True)
app.add_typer(prefect_app, name="prefect")


@prefect_app.command("setup")
def prefect_setup(
    zwiftpower_slots: int = typer.Option(1, help="Season fetches allowed to talk to ZwiftPower at once."),
) -> None:
    """Save the secrets in the TDZ_* settings as Prefect Secret blocks; create the `zwiftpower` concurrency limit
    and the `tdz-process` work pool when missing."""
    from flows.setup import setup_prefect

    for line in asyncio.run(setup_prefect(Settings(), zwiftpower_slots=zwiftpower_slots)):
        console.print(line, highlight=False)


def _load_or_exit(path: Path):
    try:
        return load_season(path)
    except SeasonFileError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()

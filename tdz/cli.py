"""The `tdz` command: a thin layer over the same functions and flows the deployments run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table as RichTable

from tdz.cli_sheets import looker_link_command, sheet_app
from tdz.cli_sources import zwiftpower_app
from tdz.report import RunSummary
from tdz.season import SeasonFileError, load_season
from tdz.settings import Settings

# A club's pipeline should not phone home by default, and a small VM may need longer than Prefect's 20 s to start
# its temporary API; both stay overridable from the environment.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

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
    from flows.score_season import score_season
    from tdz.demo import ensure_demo
    from tdz.tables import ORGANISER_TABS
    from tdz.workbook import open_workbook

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
            summary = score_season(str(season_file), archive_dir=str(settings.archive_dir),
                                   out_dir=str(settings.out_dir))
        _print_summary(summary)
    console.print(f"done in {time.perf_counter() - started:.1f} s")


@app.command()
def score(season: Path = typer.Option(..., "--season", help="Season file, e.g. seasons/kwcc-tdz-2026.toml.")) -> None:
    """Score a season from its raw archive and organiser tabs, and publish the output tabs (no fetching)."""
    from flows.score_season import score_season

    settings = Settings()
    _load_or_exit(season)
    _print_summary(score_season(str(season), archive_dir=str(settings.archive_dir), out_dir=str(settings.out_dir)))


def _load_or_exit(path: Path):
    try:
        return load_season(path)
    except SeasonFileError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()

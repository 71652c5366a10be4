"""The `tdz` command: runs the pipeline in-process, or the Prefect flow when a Prefect server is configured.

Without `PREFECT_API_URL` in the environment, `tdz demo`, `tdz run` and `tdz rescore` call `tdz.pipeline`
directly: no Prefect server, no temporary API, answers in seconds. With it, they run the `update-season` /
`rescore-season` flow against that server, so the run shows in its UI. The first line printed says which.

Every fault a user can fix (`TdzError`) is printed as one line on stderr with exit code 1; `--debug` adds the
traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table as RichTable

from tdz.cli import checks, output
from tdz.cli.output import err, out, reporting
from tdz.errors import TdzError
from tdz.settings import Settings, load_settings

if TYPE_CHECKING:
    from tdz.pipeline import RunRequest, RunResult

app = typer.Typer(help="tdz: score club Zwift race series from ZwiftPower results.", no_args_is_help=True,
                  add_completion=False)
SHIPPED_SEASONS = ("ctt-winter-2025-26.toml", "kwcc-tdz-2026.toml")
FLOWS_GROUP = "tdz.flows"


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error.")) -> None:
    output.show_tracebacks(debug)


def main() -> None:
    app()


def prefect_api() -> str:
    """The Prefect server runs go to, from `PREFECT_API_URL`; empty = run in-process."""
    return os.environ.get("PREFECT_API_URL", "").strip()


def _flow(name: str) -> Callable[..., Any]:
    """A flow of the `flows` package, found through its entry point, so tdz itself never imports flows/."""
    found = [ep for ep in entry_points(group=FLOWS_GROUP) if ep.name == name]
    if not found:
        raise TdzError(f"PREFECT_API_URL is set but the {name} flow is not installed: run `uv sync` in the "
                       "repository, or unset PREFECT_API_URL to run in-process")
    return found[0].load()


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per step (`fetch`, `publish`) on stderr, gone when the step is done."""
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True, disable=not err.is_terminal)
    tasks: dict[str, Any] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task({"fetch": "fetching events", "publish": "publishing tabs"}.get(step, step),
                                        total=total)
        bars.update(tasks[step], completed=done, total=total)

    with bars:
        yield update


def _execute(flow: str, request: RunRequest, settings: Settings | None) -> RunResult:
    """Run one season in-process, or as the flow on the Prefect server."""
    from tdz import pipeline

    if prefect_api():
        run_flow = _flow(flow)
        parameters: dict[str, Any] = {"fetch_retries": 0} if flow == "update-season" else {}
        return asyncio.run(run_flow(run=request, **parameters))
    with _progress() as progress:
        if flow == "update-season":
            return asyncio.run(pipeline.update_season(request, settings, progress))
        return pipeline.rescore_season(request, settings, progress)


def _say_where() -> None:
    api = prefect_api()
    if api:
        err.print(f"tdz: running the flow on the Prefect server at {api} (its UI shows the run)")
    else:
        err.print("tdz: running in-process, no Prefect server (set PREFECT_API_URL to run the flow on one)")


def _print_result(result: RunResult) -> None:
    summary = result.summary
    out.print(f"[bold]{escape(summary.season_name)}[/bold] ({summary.season_id}): {summary.riders} riders, "
              f"{summary.efforts} efforts, {summary.rounds_with_results}/{summary.rounds} rounds with results, "
              f"{summary.problems} problems, as of {summary.as_of or '—'}")
    table = RichTable(title=summary.leaders_title, title_justify="left")
    table.add_column("place", justify="right")
    table.add_column("rider")
    table.add_column("score", justify="right")
    for leader in summary.leaders:
        table.add_row(str(leader.place), escape(leader.rider_name), leader.score)
    out.print(table)
    wrote = ", ".join(result.counts.tabs_written) or f"nothing ({result.skipped or 'unchanged'})"
    out.print(escape(f"workbook: {summary.workbook} (wrote {wrote})"))
    if result.site:
        out.print(escape(f"results site: {result.site}"))
    out.print()


def _request(season: Path, *, event: int | None = None, round_: str | None = None, target: str | None = None,
             dry_run: bool = False) -> RunRequest:
    from tdz.errors import RunRequestError
    from tdz.pipeline import RunRequest

    if event is not None and round_ is not None:
        raise RunRequestError("give --event or --round, not both")
    if target not in (None, "local", "dev", "prod"):
        raise RunRequestError(f"--target {target!r}: use local, dev or prod (deployments/<target>.toml)")
    mode = "event" if event is not None else "round" if round_ is not None else "all"
    return RunRequest(season_file=str(season), mode=mode, event_id=event, round=round_, target=target,
                      dry_run=dry_run)


SEASON_OPTION = typer.Option(..., "--season", help="Season file, e.g. seasons/kwcc-tdz-2026.toml.")
TARGET_OPTION = typer.Option(None, "--target", help="local, dev or prod (deployments/<target>.toml); default: settings.")
DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Score and report, but write nothing to the workbook.")


@app.command()
@reporting
def demo(seed: int = typer.Option(2026, help="Seed of the generated demo seasons.")) -> None:
    """Generate the bundled demo seasons (if absent), score them, write out/<season>.xlsx and the results site
    (out/site/<season>/index.html, or under TDZ_SITE_DIR)."""
    from tdz.demo import ensure_demo
    from tdz.pipeline import open_run
    from tdz.publish.tables import ORGANISER_TABS
    from tdz.season import load_season

    settings = load_settings()
    if settings.workbook != "xlsx":
        err.print(f"[yellow]the demo writes local workbooks; ignoring TDZ_WORKBOOK={settings.workbook}[/yellow]")
    settings = load_settings(workbook="xlsx", site_dir=settings.site_dir or settings.out_dir / "site")
    if prefect_api() and not os.environ.get("TDZ_SITE_DIR"):
        err.print("[yellow]the flow reads its settings from the environment: set TDZ_SITE_DIR to have it write the "
                  "results site[/yellow]")
    _say_where()
    started = time.perf_counter()
    for name in SHIPPED_SEASONS:
        request = _request(settings.seasons_dir / name)
        season = load_season(request.season_file)
        demo_season = ensure_demo(season, settings.archive_dir, seed=seed)
        open_run(request, settings).workbook.ensure_organiser_tabs(list(ORGANISER_TABS.values()),
                                                                   seed=demo_season.organiser_seed)
        _print_result(_execute("rescore-season", request, settings))
    out.print(f"done in {time.perf_counter() - started:.1f} s")


@app.command()
@reporting
def run(
    season: Path = SEASON_OPTION,
    event: int | None = typer.Option(None, "--event", help="Only this Zwift event id."),
    round_: str | None = typer.Option(None, "--round", "--stage", help="Only this round or stage."),
    target: str | None = TARGET_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
) -> None:
    """Discover, fetch, score and publish a season (what the hourly `update-season` flow does)."""
    request = _request(season, event=event, round_=round_, target=target, dry_run=dry_run)
    settings = load_settings(request.target)
    _say_where()
    _print_result(_execute("update-season", request, settings))


@app.command()
@reporting
def rescore(season: Path = SEASON_OPTION, target: str | None = TARGET_OPTION, dry_run: bool = DRY_RUN_OPTION) -> None:
    """Re-read the organiser tabs, score the season from the archive and publish; nothing is fetched."""
    request = _request(season, target=target, dry_run=dry_run)
    settings = load_settings(request.target)
    _say_where()
    _print_result(_execute("rescore-season", request, settings))


@app.command()
@reporting
def site(
    season: Path = SEASON_OPTION,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Site folder; default TDZ_SITE_DIR, else "
                                                 "<TDZ_OUT_DIR>/site.")] = None,
    target: str | None = TARGET_OPTION,
) -> None:
    """Write the season's results site from the archive and the organiser tabs, as a rescore would publish it;
    nothing is fetched and nothing is written to the workbook."""
    from tdz import pipeline
    from tdz.publish.report import load_snapshot, snapshot

    request = _request(season, target=target, dry_run=True)
    run = pipeline.open_run(request)
    if not run.archive.exists():
        raise TdzError(f"{run.season.id}: no raw archive at {run.archive.root} yet, so no results to show: run "
                       f"`tdz run --season {season}` (or `tdz demo`) first")
    scored = pipeline.score(run, pipeline.read_organiser_tabs(run), pipeline.parse(run))
    home = pipeline.write_results_site(run, scored.tables, load_snapshot(run.snapshot_path),
                                       snapshot(run.season.id, scored.tables), folder=out_dir, publishing=False)
    out.print(escape(f"results site: {home}"))


prefect_app = typer.Typer(help="Prefect: secrets, limits and the work pool the deployments need.",
                          no_args_is_help=True)
app.add_typer(prefect_app, name="prefect")


@prefect_app.command("setup")
@reporting
def prefect_setup(
    zwiftpower_slots: int = typer.Option(1, help="Season fetches allowed to talk to ZwiftPower at once."),
) -> None:
    """Save the secrets in the TDZ_* settings as Prefect Secret blocks; create the `zwiftpower` concurrency limit
    and the `tdz-process` work pool when missing (on the server PREFECT_API_URL names)."""
    setup = _flow("setup")
    for line in asyncio.run(setup(load_settings(), zwiftpower_slots=zwiftpower_slots)):
        out.print(line)


app.add_typer(checks.zwiftpower_app, name="zwiftpower")
app.add_typer(checks.sheet_app, name="sheet")
app.command("looker-link")(checks.looker_link)

if __name__ == "__main__":
    main()

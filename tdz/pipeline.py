"""A season run in four steps, discover → fetch → score → publish, as plain functions.

Each step takes what it needs and returns its result with the problems it met; nothing here imports Prefect. The
CLI runs `update_season` or `rescore_season` in-process; the Prefect flows in `flows/` call the same steps as
tasks, adding retries, the cross-run ZwiftPower limit, a parse cache and artifacts. A fault the user can fix
raises a `TdzError` whose message is one line; problems with the data (a bad DQ row, a malformed payload) are
never raised: they travel with the results to the problems tab.

    open_run            settings, season file, workbook, archive (faults: TdzError)
    read_organiser_tabs every organiser tab, once per run
    discover            ZwiftPower's recent-results list → suggested events (written to the Events tab)
    fetch               plan → fetch → raw archive; nothing answered at all → NothingFetched
    parse, score        raw archive + organiser tabs → every output table + problems
    publish             the never-blank guard, then every output tab in one write (none when unchanged), then the
                        results site from the same tables (when TDZ_SITE_DIR is set)
    account             what the run did: summary, changes, calls to the outside, links
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tdz.errors import NothingFetched, RunRequestError
from tdz.events import EventListing
from tdz.files import holding, holding_async
from tdz.ingest.archive import Archive
from tdz.ingest.parse import ParsedArchive, parse_archive
from tdz.problems import Problem
from tdz.publish.report import (
    RunChanges,
    RunCounts,
    RunSnapshot,
    RunSummary,
    compare,
    load_snapshot,
    publishable,
    save_snapshot,
    snapshot,
    summarize,
    summary_markdown,
)
from tdz.publish.tables import EVENTS_TAB, ORGANISER_TABS, OUTPUT_TABLES, Grid
from tdz.publish.workbook import PublishReport, Workbook, open_workbook
from tdz.scoring import ScoredSeason, score_season
from tdz.scoring.organiser import read_event_listings, read_overrides
from tdz.season import Season, load_season
from tdz.settings import Settings, Target, load_settings

if TYPE_CHECKING:  # the fetching side (httpx and the sources) is imported by the runs that fetch, not by a rescore
    import pandas as pd

    from tdz.ingest.discovery import Discovered
    from tdz.ingest.fetch import FetchReport
    from tdz.ingest.sources import Sources

log = logging.getLogger("tdz.pipeline")

Mode = Literal["all", "event", "round"]
Progress = Callable[[str, int, int], None]
"""Called with (step, done, total) as a step goes: `fetch` counts events, `publish` counts tabs."""


class RunRequest(BaseModel):
    """One run of a season. `mode`: every past event (`all`), one `event_id`, or one `round` (a round id, or a
    stage, which means all its courses). `target` picks `deployments/<target>.toml`; empty = the TDZ_* settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    season_file: str = Field(description="Season file, relative to the working directory.")
    mode: Mode = "all"
    event_id: int | None = Field(None, gt=0, description="With mode=event: the Zwift event id.")
    round: str | None = Field(None, description="With mode=round: a round id (3.1) or a stage (3).")
    target: Target | None = Field(None, description="local workbook, dev Sheet or prod Sheet; empty = settings.")
    dry_run: bool = Field(False, description="Score and report, but write nothing to the workbook.")

    @model_validator(mode="after")
    def _mode_fits(self) -> RunRequest:
        if self.mode == "event" and (self.event_id is None or self.round is not None):
            raise ValueError("mode=event needs event_id (and no round)")
        if self.mode == "round" and (self.round is None or self.event_id is not None):
            raise ValueError("mode=round needs round (and no event_id)")
        if self.mode == "all" and (self.round is not None or self.event_id is not None):
            raise ValueError("mode=all takes neither event_id nor round")
        return self

    def round_ids(self, season: Season) -> list[str]:
        """The round ids the `round` parameter names: itself, or every course of the stage."""
        if self.round is None:
            return []
        exact = [r.id for r in season.rounds if r.id == self.round]
        return exact or [r.id for r in season.rounds if r.stage == self.round]


@dataclass
class SeasonRun:
    """What every step of one run shares."""

    request: RunRequest
    settings: Settings
    season: Season
    workbook: Workbook
    archive: Archive
    now: datetime

    @property
    def round_ids(self) -> list[str]:
        return self.request.round_ids(self.season)

    @property
    def snapshot_path(self) -> Path:
        return self.settings.out_dir / f"{self.season.id}.last-run.json"

    @property
    def publish_lock_path(self) -> Path:
        return self.settings.out_dir / f".{self.season.id}.publish.lock"


def open_run(request: RunRequest, settings: Settings | None = None, *, now: datetime | None = None) -> SeasonRun:
    """The settings (of the request's target when none are given), the season, its workbook and raw archive."""
    settings = settings or load_settings(request.target)
    season = load_season(request.season_file)
    if request.round is not None and not request.round_ids(season):
        known = ", ".join(dict.fromkeys(r.stage for r in season.rounds))
        raise RunRequestError(f"round {request.round!r} is not a round or stage of {season.id} "
                              f"({request.season_file}); its rounds: {known}")
    workbook = open_workbook(settings, season.id)
    log.info("%s: mode %s%s, workbook %s%s", season.id, request.mode,
             f" {request.event_id or request.round}" if request.mode != "all" else "", workbook.location,
             " (dry run)" if request.dry_run else "")
    return SeasonRun(request, settings, season, workbook, Archive(settings.archive_dir, season.id),
                     now or datetime.now(UTC))


def read_organiser_tabs(run: SeasonRun) -> dict[str, Grid]:
    """Every organiser tab as text, read once per run; missing tabs are created first, except on a dry run
    (which writes nothing)."""
    tabs = list(ORGANISER_TABS.values())
    if not run.request.dry_run:
        run.workbook.ensure_organiser_tabs(tabs)
    return run.workbook.read_organiser_tabs(tabs)


def event_listings(run: SeasonRun, grids: Mapping[str, Grid]) -> list[EventListing]:
    """The Events tab's rows (their problems are reported by `score`, with the rest of the organiser tabs)."""
    return read_event_listings(run.season, grids.get(EVENTS_TAB.name, []))


# --- 1. discover --------------------------------------------------------------------------------------------------


async def discover(run: SeasonRun, grids: Mapping[str, Grid], sources: Sources) -> Discovered:
    """Suggested events for opened rounds with none confirmed, added to the Events tab (not on a dry run); a run
    for one event asks nothing."""
    from tdz.ingest.discovery import Discovered, discover_events

    if run.request.mode == "event":
        return Discovered()
    found = await discover_events(sources.zwiftpower, run.season, event_listings(run, grids), now=run.now,
                                  round_ids=run.round_ids)
    if found.suggestions and not run.request.dry_run:
        run.workbook.append_organiser_rows(EVENTS_TAB, suggestion_rows(grids, found))
    return found


def suggestion_rows(grids: Mapping[str, Grid], discovered: Discovered) -> list[list[str]]:
    """Discovery's suggestions as Events-tab rows under the tab's header as read (an organiser may have
    reordered its columns)."""
    header = (grids.get(EVENTS_TAB.name) or [list(EVENTS_TAB.header)])[0]
    return [EVENTS_TAB.row_for(list(header), s.tab_values()) for s in discovered.suggestions]


def with_suggestions(grids: Mapping[str, Grid], discovered: Discovered) -> dict[str, Grid]:
    """The organiser tabs as they read after discovery wrote its suggestions below the Events tab's rows."""
    events = grids.get(EVENTS_TAB.name) or [list(EVENTS_TAB.header)]
    width = max(len(r) for r in events)
    added = [row + [""] * (width - len(row)) for row in suggestion_rows(grids, discovered)]
    return {**grids, EVENTS_TAB.name: [*events, *added]}


# --- 2. fetch -----------------------------------------------------------------------------------------------------


async def fetch(run: SeasonRun, grids: Mapping[str, Grid], discovered: Discovered, sources: Sources,
                progress: Progress | None = None) -> FetchReport:
    """New and changed results into the raw archive (incremental: see `tdz.ingest.fetch`), holding the season's
    fetch lock: a second run of the season waits, then plans from the manifest the first one left. Raises
    `NothingFetched` when ZwiftPower answered nothing at all, and `ZwiftPowerLoginError` when it refused us."""
    from tdz.ingest.fetch import fetch_events, nothing_fetched

    async with holding_async(run.archive.lock_path, f"fetching {run.season.id}", run.settings.lock_timeout_seconds):
        run.archive.reload()  # another run may have written the manifest while this one waited
        report = await fetch_events(
            sources, run.season, run.archive, event_listings(run, grids), discovered=discovered, now=run.now,
            event_id=run.request.event_id, round_ids=run.round_ids,
            progress=(lambda done, total: progress("fetch", done, total)) if progress else None)
    log.info("%s: %s", run.season.id, report.summary())
    failure = nothing_fetched(discovered, report)
    if failure:
        raise NothingFetched(f"{run.season.id}: {failure}")
    return report


# --- 3. score -----------------------------------------------------------------------------------------------------


def parse(run: SeasonRun) -> ParsedArchive:
    return parse_archive(run.archive)


def score(run: SeasonRun, grids: Mapping[str, Grid], parsed: ParsedArchive,
          problems: Iterable[Problem] = ()) -> ScoredSeason:
    """Every output table from the parsed archive and the organiser tabs; `problems` (fetching's) lead the
    problems tab, then the organiser tabs', the parser's and scoring's."""
    overrides, tab_problems = read_overrides(run.season, grids,
                                             known_riders=set(parsed.efforts["rider_id"].tolist()),
                                             known_events=set(parsed.events["event_id"].tolist()))
    return score_season(run.season, parsed, overrides, now=run.now, problems=[*problems, *tab_problems],
                        input_hash=run.archive.input_hash())


# --- 4. publish ---------------------------------------------------------------------------------------------------


@dataclass
class Published:
    report: PublishReport | None
    skipped: str
    """Why nothing was published ("" when it was): a dry run, or no raw archive yet."""
    previous: RunSnapshot | None
    current: RunSnapshot
    site: Path | None = None
    """The results site's home page, when the settings name a site folder."""


def publish(run: SeasonRun, scored: ScoredSeason, progress: Progress | None = None) -> Published:
    """Every output tab, whole, in one write (none when nothing changed), holding the season's publish lock, then
    the results site from the same tables when `site_dir` is set. Refuses a publish that would blank standings
    published before (`WouldBlankStandings`) or that lost archived events the last publish had efforts from
    (`WouldLoseEfforts`); a publish that fails writes no site, so the site never shows what the workbook does not."""
    current = snapshot(run.season.id, scored.tables)
    if run.request.dry_run:
        return Published(None, "dry run", load_snapshot(run.snapshot_path), current)
    with holding(run.publish_lock_path, f"publishing {run.season.id}", run.settings.lock_timeout_seconds):
        previous = load_snapshot(run.snapshot_path)
        skipped = publishable(run.archive.exists(), run.archive.root, previous, current, run.archive.event_ids())
        if skipped:
            log.warning("%s: %s", run.season.id, skipped)
            return Published(None, skipped, previous, current)
        report = run.workbook.publish(
            scored.tables, (lambda done, total: progress("publish", done, total)) if progress else None)
        save_snapshot(run.snapshot_path, current)
        site = write_results_site(run, scored.tables, previous, current) if run.settings.site_dir else None
    return Published(report, "", previous, current, site)


def write_results_site(run: SeasonRun, tables: Mapping[str, pd.DataFrame], previous: RunSnapshot | None,
                       current: RunSnapshot, *, folder: Path | None = None, publishing: bool = True) -> Path:
    """The season's results site in `folder` (default: the settings' site folder, else `<out_dir>/site`), with
    what changed at the last publish that changed something (kept only when `publishing`: `tdz site` rebuilds the
    site without publishing). Returns its home page."""
    from tdz.publish.site import write_site
    from tdz.publish.site.news import latest_news, news_path

    news = latest_news(news_path(run.settings.out_dir, run.season.id), previous, current, run.now, keep=publishing)
    return write_site(tables, folder or run.settings.site_dir or run.settings.out_dir / "site", news=news)


# --- what the run did ---------------------------------------------------------------------------------------------


class RunResult(BaseModel):
    """One run's account: printed by the CLI, turned into artifacts by the flows."""

    flow: str
    dry_run: bool = False
    summary: RunSummary
    changes: RunChanges
    counts: RunCounts
    problems: list[Problem]
    links: dict[str, str]
    site: str = ""
    """The results site's home page written by this run ("" when none was)."""
    skipped: str = ""
    fetch_markdown: str = ""

    def markdown(self) -> str:
        return summary_markdown(self.summary, self.changes, self.counts, flow=self.flow, dry_run=self.dry_run,
                                fetch_markdown=self.fetch_markdown)

    def log_line(self) -> str:
        s, c = self.summary, self.changes
        wrote = ", ".join(self.counts.tabs_written) or f"nothing ({self.skipped or 'unchanged'})"
        return (f"{s.season_id}: {s.riders} riders, {s.efforts} efforts, {s.problems} problems, "
                f"{c.new_efforts} new efforts, {c.changed_positions} changed positions; wrote {wrote}")


def account(run: SeasonRun, scored: ScoredSeason, published: Published, *, flow: str,
            discovered: Discovered | None = None, fetched: FetchReport | None = None) -> RunResult:
    counts = RunCounts(sheet_reads=run.workbook.calls.reads, sheet_writes=run.workbook.calls.writes,
                       tabs_written=published.report.tabs_written if published.report else [])
    if fetched is not None:
        counts = counts.model_copy(update=dict(
            result_fetches=fetched.result_requests, zwiftpower_requests=sum(fetched.requests.values()),
            logins=fetched.logins, events_fetched=len(fetched.fetched), fetch_failures=len(fetched.failed)))
    summary = summarize(run.season, scored.tables, scored.as_of)
    summary.workbook = run.workbook.location
    fetch_markdown = "\n\n".join(m for m in (fetched.to_markdown() if fetched else "",
                                             discovered.to_markdown() if discovered else "") if m)
    links = run.workbook.links(OUTPUT_TABLES)
    if published.site is not None:
        links["site"] = published.site.resolve().as_uri()
    result = RunResult(flow=flow, dry_run=run.request.dry_run, summary=summary,
                       changes=compare(published.previous, published.current), counts=counts,
                       problems=scored.problems, links=links, site=str(published.site or ""),
                       skipped=published.skipped, fetch_markdown=fetch_markdown)
    log.info("%s", result.log_line())
    return result


# --- whole runs (the CLI; the flows in flows/ call the steps as tasks) -------------------------------------------


async def update_season(request: RunRequest, settings: Settings | None = None, progress: Progress | None = None,
                        *, now: datetime | None = None) -> RunResult:
    """The hourly run: discover → fetch → score → publish (`now`: the run's clock, by default the wall clock)."""
    from tdz.ingest.sources import Sources

    run = open_run(request, settings, now=now)
    grids = read_organiser_tabs(run)
    async with Sources.open(run.settings) as sources:
        discovered = await discover(run, grids, sources)
        grids = with_suggestions(grids, discovered)
        fetched = await fetch(run, grids, discovered, sources, progress)
    scored = score(run, grids, parse(run), [*discovered.problems, *fetched.problems])
    return account(run, scored, publish(run, scored, progress), flow="update-season", discovered=discovered,
                   fetched=fetched)


def rescore_season(request: RunRequest, settings: Settings | None = None, progress: Progress | None = None,
                   *, now: datetime | None = None) -> RunResult:
    """The organiser's button after editing a DQ, a handicap or a rider's group: score → publish, no fetching."""
    run = open_run(request, settings, now=now)
    grids = read_organiser_tabs(run)
    scored = score(run, grids, parse(run))
    return account(run, scored, publish(run, scored, progress), flow="rescore-season")

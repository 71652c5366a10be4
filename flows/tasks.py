"""The tasks of the season flows: each a thin call into tdz, with the retry and caching policy it needs.

Fetching retries with backoff (ZwiftPower and Zwift are outside and flaky) under the global concurrency limit
`zwiftpower`; parsing is cached on the archive's content hash; scoring and publishing are never retried blindly
(a scoring error is a bug to read, and publishing already retries each Sheets call and is idempotent).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.concurrency.asyncio import concurrency
from prefect.context import TaskRunContext
from prefect.exceptions import ObjectNotFound

from tdz.events import EventListing
from tdz.ingest.archive import Archive
from tdz.ingest.fetch import FetchReport, fetch_season_async
from tdz.ingest.parse import ParsedArchive, parse_archive, parser_version
from tdz.problems import Problem
from tdz.publish.tables import EVENTS_TAB, ORGANISER_TABS
from tdz.publish.workbook import Grid, PublishReport, Workbook
from tdz.scoring import ScoredSeason, score_season
from tdz.scoring.organiser import Overrides, read_overrides
from tdz.season import Season
from tdz.settings import Settings

ZWIFTPOWER_LIMIT = "zwiftpower"
"""Global concurrency limit: season fetches talking to ZwiftPower at once, across every flow run."""
SLOT_TIMEOUT_SECONDS = 1800


class ZwiftPowerUnavailable(RuntimeError):
    """Every event the run meant to fetch failed: ZwiftPower (or Zwift) is down or refusing us."""


@task(name="read-organiser-tabs", cache_policy=NO_CACHE)
def read_organiser_tabs(workbook: Workbook, dry_run: bool = False) -> dict[str, Grid]:
    """Every organiser tab as text; missing tabs are created first, except on a dry run (which writes nothing)."""
    tabs = list(ORGANISER_TABS.values())
    if not dry_run:
        workbook.ensure_organiser_tabs(tabs)
    return workbook.read_organiser_tabs(tabs)


def listed_events(season: Season, grids: dict[str, Grid]) -> list[EventListing]:
    """The Events tab's rows (problems are reported later, with the rest of the organiser tabs)."""
    return read_overrides(season, {EVENTS_TAB.name: grids.get(EVENTS_TAB.name, [])})[0].events


@asynccontextmanager
async def zwiftpower_slot() -> AsyncIterator[None]:
    """Hold one slot of the `zwiftpower` limit; without the limit on the server, say so and go on."""
    async with get_client() as client:
        try:
            await client.read_global_concurrency_limit_by_name(ZWIFTPOWER_LIMIT)
            present = True
        except ObjectNotFound:
            present = False
    if not present:
        get_run_logger().warning(
            "no global concurrency limit %r on this Prefect server: fetching without the cross-run ZwiftPower "
            "limit (run `tdz prefect setup` to create it)", ZWIFTPOWER_LIMIT)
        yield
        return
    async with concurrency(ZWIFTPOWER_LIMIT, occupy=1, timeout_seconds=SLOT_TIMEOUT_SECONDS):
        yield


@task(name="fetch-results", cache_policy=NO_CACHE, retry_jitter_factor=0.2)
async def fetch_results(season: Season, settings: Settings, rows: Sequence[EventListing], *, now: datetime,
                        event_id: int | None = None, round_ids: Sequence[str] = ()) -> FetchReport:
    """Discover and fetch new results into the archive; raises (and is retried) only when every planned event
    failed. A login refused by ZwiftPower is returned in the report, not raised, so it is never retried."""
    async with zwiftpower_slot():
        report = await fetch_season_async(season, settings, rows, event_id=event_id, round_ids=round_ids, now=now,
                                          raise_on_login_error=False)
    get_run_logger().info("%s: %s", season.id, report.summary())
    if report.failed and not (report.fetched or report.unchanged):
        first = report.failed[0]
        raise ZwiftPowerUnavailable(f"{season.id}: {len(report.failed)} event(s) failed and none was fetched; "
                                    f"event {first.event_id}: {first.error}")
    return report


def fetch_retry_delays(retries: int, first_delay_seconds: float) -> list[float]:
    return [first_delay_seconds * 4**i for i in range(retries)]


@task(name="add-suggestions", cache_policy=NO_CACHE)
def add_suggestions(workbook: Workbook, suggestions: Sequence[EventListing]) -> None:
    """Discovery's candidates below the Events tab's rows, as `suggested`, for an organiser to confirm."""
    workbook.append_organiser_rows(EVENTS_TAB, [s.tab_row() for s in suggestions])


def parse_cache_key(context: TaskRunContext, parameters: dict[str, object]) -> str:
    """The archive's content hash (sha256 of every payload's sha256) and the parser's own version."""
    archive = parameters["archive"]
    assert isinstance(archive, Archive)
    return f"tdz-parse-{archive.season_id}-{parser_version()}-{archive.input_hash()}"


@task(name="parse-archive", cache_key_fn=parse_cache_key, cache_expiration=timedelta(days=30), persist_result=True)
def parse(archive: Archive) -> ParsedArchive:
    return parse_archive(archive)


@task(name="read-overrides", cache_policy=NO_CACHE)
def validate_overrides(season: Season, grids: dict[str, Grid], parsed: ParsedArchive) -> tuple[Overrides,
                                                                                                list[Problem]]:
    return read_overrides(season, grids, known_riders=set(parsed.efforts["rider_id"].tolist()),
                          known_events=set(parsed.events["event_id"].tolist()))


@task(name="score", cache_policy=NO_CACHE)
def score(season: Season, parsed: ParsedArchive, overrides: Overrides, problems: list[Problem], input_hash: str,
          now: datetime) -> ScoredSeason:
    return score_season(season, parsed, overrides, now=now, problems=problems, input_hash=input_hash)


@task(name="publish", cache_policy=NO_CACHE)
def publish(workbook: Workbook, scored: ScoredSeason) -> PublishReport:
    """Every output tab, whole (this supersedes what a failed publish left pending); unchanged tabs are not
    written."""
    return workbook.publish(scored.tables)

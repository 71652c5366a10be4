"""What both season flows share: opening a run (settings, secrets, season, workbook) and the second half of it,
archive → parse → score → publish → artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prefect import get_run_logger

from flows.artifacts import publish_artifacts
from flows.config import run_settings, with_secret_blocks
from flows.params import RunParameters
from flows.tasks import parse, publish, score, validate_overrides
from tdz.ingest.archive import Archive
from tdz.ingest.fetch import FetchReport
from tdz.publish.report import (
    RunCounts,
    RunSummary,
    compare,
    load_snapshot,
    publishable,
    save_snapshot,
    snapshot,
    summarize,
)
from tdz.publish.workbook import Grid, Workbook, open_workbook
from tdz.season import Season
from tdz.settings import Settings


@dataclass
class SeasonRun:
    run: RunParameters
    season: Season
    settings: Settings
    workbook: Workbook
    now: datetime

    @property
    def snapshot_path(self) -> Path:
        return self.settings.out_dir / f"{self.season.id}.last-run.json"


async def open_run(run: RunParameters) -> SeasonRun:
    """Settings of the target environment with secrets from Prefect Secret blocks, the season and its workbook."""
    settings, origin = await with_secret_blocks(run_settings(run.target))
    season = run.season()
    workbook = open_workbook(settings, season.id)
    get_run_logger().info(
        "%s: mode %s%s, target %s, workbook %s%s; secrets from %s", season.id, run.mode,
        f" {run.event_id or run.round}" if run.mode != "all" else "", run.target or "settings",
        workbook.location, " (dry run)" if run.dry_run else "",
        ", ".join(f"{k}: {v}" for k, v in origin.items()))
    return SeasonRun(run=run, season=season, settings=settings, workbook=workbook, now=datetime.now(UTC))


async def score_and_publish(ctx: SeasonRun, grids: dict[str, Grid], fetched: FetchReport | None,
                            flow: str) -> RunSummary:
    archive = Archive(ctx.settings.archive_dir, ctx.season.id)
    parsed = parse(archive)
    overrides, problems = validate_overrides(ctx.season, grids, parsed)
    if fetched is not None:
        problems = [*fetched.problems, *problems]
    scored = score(ctx.season, parsed, overrides, problems, archive.input_hash(), ctx.now)

    counts = RunCounts()
    if fetched is not None:
        counts = RunCounts(result_fetches=fetched.result_requests, zwiftpower_requests=sum(fetched.requests.values()),
                           logins=fetched.logins, events_fetched=len(fetched.fetched),
                           fetch_failures=len(fetched.failed))
    current, previous = snapshot(ctx.season.id, scored.tables), load_snapshot(ctx.snapshot_path)
    skip = "dry run" if ctx.run.dry_run else publishable(archive.exists(), archive.root, previous, current)
    if skip:
        location = ctx.workbook.location
        if not ctx.run.dry_run:
            get_run_logger().warning("%s: %s", ctx.season.id, skip)
    else:
        report = publish(ctx.workbook, scored)
        counts.tabs_written, location = report.tabs_written, report.location
        save_snapshot(ctx.snapshot_path, current)
    calls = getattr(ctx.workbook, "calls", None)
    if calls is not None:
        counts.sheet_reads, counts.sheet_writes = calls.reads, calls.writes

    summary = summarize(ctx.season, scored)
    summary.workbook = location
    changes = compare(previous, current)
    await publish_artifacts(ctx.season, ctx.workbook, summary, changes, counts, scored.problems, flow=flow,
                            dry_run=ctx.run.dry_run, fetched=fetched)
    get_run_logger().info(
        "%s: %d riders, %d efforts, %d problems, %d new efforts, %d changed positions; wrote %s", ctx.season.id,
        summary.riders, summary.efforts, summary.problems, changes.new_efforts, changes.changed_positions,
        ", ".join(counts.tabs_written) or f"nothing ({skip or 'unchanged'})")
    return summary

"""rescore_season: organiser tabs + archive → score → publish, no fetching. The button an organiser presses after
editing a DQ, a handicap or a rider's group."""

from __future__ import annotations

from prefect import flow

from flows.hooks import alert_on_failure
from flows.params import RunParameters
from flows.run import open_run, score_and_publish
from flows.tasks import read_organiser_tabs
from tdz.publish.report import RunSummary


@flow(name="rescore-season", on_failure=[alert_on_failure], on_crashed=[alert_on_failure], log_prints=False)
async def rescore_season(run: RunParameters) -> RunSummary:
    """Re-read the organiser tabs and score the whole season from the archive; `mode` is ignored (nothing is
    fetched)."""
    ctx = await open_run(run)
    grids = read_organiser_tabs(ctx.workbook, dry_run=run.dry_run)
    return await score_and_publish(ctx, grids, None, flow="rescore-season")

"""rescore_season: organiser tabs + archive → score → publish, no fetching. The button an organiser presses after
editing a DQ, a handicap or a rider's group."""

from __future__ import annotations

from prefect import flow

from flows import tasks
from flows.artifacts import report
from flows.hooks import alert_on_failure
from tdz import pipeline


@flow(name="rescore-season", on_failure=[alert_on_failure], on_crashed=[alert_on_failure], log_prints=False)
@tasks.failing_in_one_line
async def rescore_season(run: pipeline.RunRequest) -> pipeline.RunResult:
    """Re-read the organiser tabs and score the whole season from the archive; `mode` is ignored (nothing is
    fetched)."""
    season_run = await tasks.open_run(run)
    grids = tasks.read_organiser_tabs(season_run)
    scored = tasks.score(season_run, grids, tasks.parse(season_run.archive))
    published = tasks.publish(season_run, scored)
    return await report(pipeline.account(season_run, scored, published, flow="rescore-season"))

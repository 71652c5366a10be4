"""update_season: discover → fetch → score → publish. The hourly run of a season, and its Run button."""

from __future__ import annotations

from prefect import flow

from flows.hooks import alert_on_failure
from flows.params import RunParameters
from flows.run import open_run, score_and_publish
from flows.tasks import (
    add_suggestions,
    fetch_results,
    fetch_retry_delays,
    listed_events,
    read_organiser_tabs,
)
from tdz.ingest.sources import ZwiftPowerLoginError
from tdz.publish.report import RunSummary
from tdz.publish.tables import EVENTS_TAB


@flow(name="update-season", on_failure=[alert_on_failure], on_crashed=[alert_on_failure], log_prints=False)
async def update_season(run: RunParameters) -> RunSummary:
    """Fetch what is new on ZwiftPower for a season (all past events, one event or one round), then score and
    publish every output tab. Discovery's suggestions are added to the Events tab."""
    ctx = await open_run(run)
    grids = read_organiser_tabs(ctx.workbook, dry_run=run.dry_run)
    fetch = fetch_results.with_options(retries=run.fetch_retries, retry_delay_seconds=fetch_retry_delays(
        run.fetch_retries, run.fetch_retry_delay_seconds))
    fetched = await fetch(ctx.season, ctx.settings, listed_events(ctx.season, grids), now=ctx.now,
                          event_id=run.event_id, round_ids=run.round_ids(ctx.season))
    if fetched.login_error:
        raise ZwiftPowerLoginError(fetched.login_error)
    if fetched.suggestions:
        if not run.dry_run:
            add_suggestions(ctx.workbook, fetched.suggestions)
        width = len(EVENTS_TAB.header)
        grids[EVENTS_TAB.name] = grids[EVENTS_TAB.name] + [
            s.tab_row() + [""] * (width - len(s.tab_row())) for s in fetched.suggestions]
    return await score_and_publish(ctx, grids, fetched, flow="update-season")

"""update_season: discover → fetch → score → publish. The hourly run of a season, and its Run button."""

from __future__ import annotations

from prefect import flow

from flows import tasks
from flows.artifacts import report
from flows.hooks import alert_on_failure
from tdz import pipeline
from tdz.ingest.sources import Sources


@flow(name="update-season", on_failure=[alert_on_failure], on_crashed=[alert_on_failure], log_prints=False)
@tasks.failing_in_one_line
async def update_season(run: pipeline.RunRequest, fetch_retries: int = 2,
                        fetch_retry_delay_seconds: float = 60.0) -> pipeline.RunResult:
    """Fetch what is new on ZwiftPower for a season (all past events, one event or one round), then score and
    publish every output tab. Discovery's suggestions are added to the Events tab. A fetch that got no answer at
    all is retried `fetch_retries` times, first after `fetch_retry_delay_seconds`, four times longer each time."""
    season_run = await tasks.open_run(run)
    grids = tasks.read_organiser_tabs(season_run)
    fetch = tasks.fetch.with_options(retries=fetch_retries, retry_delay_seconds=tasks.fetch_retry_delays(
        fetch_retries, fetch_retry_delay_seconds))
    async with tasks.zwiftpower_slot(), Sources.open(season_run.settings) as sources:
        discovered = await tasks.discover(season_run, grids, sources)
        grids = pipeline.with_suggestions(grids, discovered)
        fetched = await fetch(season_run, grids, discovered, sources)
    scored = tasks.score(season_run, grids, tasks.parse(season_run.archive),
                         [*discovered.problems, *fetched.problems])
    published = tasks.publish(season_run, scored)
    return await report(pipeline.account(season_run, scored, published, flow="update-season",
                                         discovered=discovered, fetched=fetched))

"""The pipeline's steps as Prefect tasks, each with the retry and caching policy it needs.

Fetching retries with backoff when ZwiftPower answered nothing at all (it is outside and flaky), under the global
concurrency limit `zwiftpower`; a refused login is never retried. Parsing is cached on the payloads' bytes and the
parser's own code. Scoring and publishing are never retried blindly: a scoring error is a bug to read, and
publishing retries each Sheets call itself and is idempotent.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State, TaskRun
from prefect.concurrency.asyncio import concurrency
from prefect.context import TaskRunContext
from prefect.exceptions import ObjectNotFound
from prefect.states import Failed

from flows.config import with_secret_blocks
from tdz import pipeline
from tdz.errors import NothingFetched, TdzError
from tdz.ingest.archive import Archive
from tdz.ingest.parse import ParsedArchive, parse_archive, parser_version
from tdz.settings import load_settings

ZWIFTPOWER_LIMIT = "zwiftpower"
"""Global concurrency limit: season fetches talking to ZwiftPower at once, across every flow run."""
SLOT_TIMEOUT_SECONDS = 1800


def failing_in_one_line(flow_fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A user error (`TdzError`) ends the flow run Failed with the error's one line as its message, the same line
    the CLI prints and the failure alert carries; a caller awaiting the flow gets the error itself."""

    @functools.wraps(flow_fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return await flow_fn(*args, **kwargs)
        except TdzError as exc:
            get_run_logger().error("%s", exc)
            return Failed(message=str(exc), data=exc)

    return run


@task(name="open-run", cache_policy=NO_CACHE)
async def open_run(request: pipeline.RunRequest) -> pipeline.SeasonRun:
    """The target's settings with secrets from Prefect Secret blocks, the season, its workbook and archive."""
    settings, origin = await with_secret_blocks(load_settings(request.target))
    get_run_logger().info("secrets from %s", ", ".join(f"{k}: {v}" for k, v in origin.items()))
    return pipeline.open_run(request, settings)


read_organiser_tabs = task(pipeline.read_organiser_tabs, name="read-organiser-tabs", cache_policy=NO_CACHE)
discover = task(pipeline.discover, name="discover", cache_policy=NO_CACHE)


async def _zwiftpower_down(task_: object, task_run: TaskRun, state: State) -> bool:
    """Retry a fetch only when ZwiftPower answered nothing at all; a refused login would be refused again."""
    return isinstance(await state.aresult(raise_on_failure=False), NothingFetched)


fetch = task(pipeline.fetch, name="fetch", cache_policy=NO_CACHE, retry_condition_fn=_zwiftpower_down,
             retry_jitter_factor=0.2)


def fetch_retry_delays(retries: int, first_delay_seconds: float) -> list[float]:
    return [first_delay_seconds * 4**i for i in range(retries)]


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


def parse_cache_key(context: TaskRunContext, parameters: dict[str, object]) -> str:
    """The hash of every payload's bytes as they are on disk (not the manifest's record of them) and the parser's
    own version."""
    archive = parameters["archive"]
    assert isinstance(archive, Archive)
    return f"tdz-parse-{archive.season_id}-{parser_version()}-{archive.payload_hash()}"


@task(name="parse-archive", cache_key_fn=parse_cache_key, cache_expiration=timedelta(days=30), persist_result=True)
def parse(archive: Archive) -> ParsedArchive:
    return parse_archive(archive)


score = task(pipeline.score, name="score", cache_policy=NO_CACHE)
publish = task(pipeline.publish, name="publish", cache_policy=NO_CACHE)

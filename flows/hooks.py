"""The alert hook of the season flows: on a failed or crashed run, a short message to the club's chat webhook."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prefect.client.schemas.objects import FlowRun, State
from prefect.flows import Flow
from prefect.logging import get_logger
from prefect.settings import PREFECT_UI_URL

from flows.config import SECRET_BLOCKS, secret_from_block, with_secret_blocks
from tdz.errors import TdzError
from tdz.publish.alerts import (
    alert_text,
    post_alert,
    redact,
    secret_values,
    webhook_payload,
)
from tdz.settings import load_settings

logger = get_logger("tdz.publish.alerts")


def flow_run_link(flow_run: FlowRun) -> str:
    ui = PREFECT_UI_URL.value()
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run.id}" if ui else f"flow run {flow_run.name} ({flow_run.id})"


def season_of(parameters: dict[str, object]) -> str:
    """The season a run was for, from its parameters (which may be the very values that failed validation)."""
    run = parameters.get("run")
    season_file = run.get("season_file") if isinstance(run, dict) else getattr(run, "season_file", None)
    return Path(str(season_file)).stem if season_file else ""


async def alert_on_failure(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """Post {season, flow run link, error} to the webhook of the `tdz-webhook-url` block or TDZ_WEBHOOK_URL."""
    try:
        settings = load_settings()
    except TdzError as exc:
        logger.error("no alert sent: %s", exc)
        return
    url = await secret_from_block(SECRET_BLOCKS["webhook_url"]) or settings.webhook_url
    if url is None:
        logger.info("no alert sent: no webhook (set TDZ_WEBHOOK_URL or the %s block)", SECRET_BLOCKS["webhook_url"])
        return
    secrets = secret_values((await with_secret_blocks(settings))[0], url)
    error = redact(state.message or "", secrets)
    text = alert_text(season_of(flow_run.parameters), error, flow_run_link(flow_run), flow=flow.name,
                      state=state.name or state.type.value)
    refused = await asyncio.to_thread(post_alert, url, webhook_payload(text))
    if refused:
        logger.warning("alert for flow run %s not delivered: %s", flow_run.name, refused)
    else:
        logger.info("alert for flow run %s sent", flow_run.name)

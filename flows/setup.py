"""`tdz prefect setup`: what a Prefect server needs before the deployments run: Secret blocks from the settings,
the `zwiftpower` global concurrency limit and the process work pool. Safe to run again (rotates the secrets)."""

from __future__ import annotations

from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, WorkPoolCreate
from prefect.exceptions import ObjectNotFound
from pydantic import SecretStr

from flows.config import SECRET_BLOCKS
from flows.tasks import ZWIFTPOWER_LIMIT
from tdz.settings import Settings

WORK_POOL = "tdz-process"


def _secret(settings: Settings, field: str) -> SecretStr | None:
    value = getattr(settings, field)
    if value is None and field == "google_service_account_json" and settings.google_service_account_file:
        value = SecretStr(settings.google_service_account_file.read_text(encoding="utf-8"))
    return value


async def setup_prefect(settings: Settings, *, zwiftpower_slots: int = 1, work_pool: str = WORK_POOL) -> list[str]:
    """Create or update each Secret block that has a value in the settings; create the limit and the work pool
    when missing (an existing limit keeps its size). Returns one line per thing done, never a secret's value."""
    done: list[str] = []
    for field, block in SECRET_BLOCKS.items():
        value = _secret(settings, field)
        if value is None:
            done.append(f"secret block {block}: left as it is (TDZ_{field.upper()} not set)")
            continue
        await Secret(value=value.get_secret_value()).asave(block, overwrite=True)
        done.append(f"secret block {block}: saved from TDZ_{field.upper()}")
    async with get_client() as client:
        try:
            limit = await client.read_global_concurrency_limit_by_name(ZWIFTPOWER_LIMIT)
            done.append(f"concurrency limit {ZWIFTPOWER_LIMIT}: exists ({limit.limit} slots)")
        except ObjectNotFound:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=ZWIFTPOWER_LIMIT, limit=zwiftpower_slots))
            done.append(f"concurrency limit {ZWIFTPOWER_LIMIT}: created ({zwiftpower_slots} slots)")
        try:
            await client.read_work_pool(work_pool)
            done.append(f"work pool {work_pool}: exists")
        except ObjectNotFound:
            from prefect.workers.process import ProcessWorker

            await client.create_work_pool(WorkPoolCreate(
                name=work_pool, type="process", base_job_template=ProcessWorker.get_default_base_job_template()))
            done.append(f"work pool {work_pool}: created (type process)")
    return done

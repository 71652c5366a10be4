"""The settings of a flow run: the TDZ_* settings of the run's target (`tdz.settings.load_settings`), with every
secret that has a Prefect Secret block replaced by the block's value."""

from __future__ import annotations

import json

from prefect.blocks.system import Secret
from pydantic import SecretStr

from tdz.settings import SECRET_FIELDS, Settings

SECRET_BLOCKS: dict[str, str] = {field: f"tdz-{field.replace('_', '-')}" for field in SECRET_FIELDS}
"""Settings field → the Prefect Secret block holding it (created by `tdz prefect setup`)."""


async def secret_from_block(block: str) -> SecretStr | None:
    """The block's value as text; None when there is no such block. A block saved as JSON (Prefect hands a
    service-account key back as a dict) is turned back into JSON text."""
    try:
        secret = await Secret.aload(block)
    except ValueError:
        return None
    value = secret.get()
    return SecretStr(value if isinstance(value, str) else json.dumps(value))


async def with_secret_blocks(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """The settings with every secret that has a Secret block replaced by the block's value, and where each
    secret came from (`block`, `settings` or `unset`) for the log: names only, never values."""
    update: dict[str, SecretStr] = {}
    origin: dict[str, str] = {}
    for field, block in SECRET_BLOCKS.items():
        value = await secret_from_block(block)
        if value is not None:
            update[field] = value
            origin[field] = f"block {block}"
        else:
            origin[field] = "settings" if getattr(settings, field) is not None else "unset"
    return settings.model_copy(update=update), origin

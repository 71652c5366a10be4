"""The settings of a run: TDZ_* settings, the target environment's values (deployments/<target>.toml) and the
secrets from Prefect Secret blocks, which win over the settings when they exist."""

from __future__ import annotations

import tomllib
from pathlib import Path

from prefect.blocks.system import Secret
from pydantic import SecretStr, ValidationError

from flows.params import Target
from tdz.settings import Settings

ENVIRONMENTS_DIR = Path(__file__).resolve().parent.parent / "deployments"
SECRET_BLOCKS: dict[str, str] = {
    "zwiftpower_password": "tdz-zwiftpower-password",
    "zwiftpower_cookie": "tdz-zwiftpower-cookie",
    "google_service_account_json": "tdz-google-service-account-json",
    "webhook_url": "tdz-webhook-url",
}
"""Settings field → the Prefect Secret block holding it (created by `tdz prefect setup`)."""


class EnvironmentFileError(ValueError):
    """A deployments/<target>.toml file that cannot be used."""


def environment_values(target: Target, folder: Path = ENVIRONMENTS_DIR) -> dict[str, object]:
    """The non-secret settings of an environment; empty values mean "as the TDZ_* settings say"."""
    path = folder / f"{target}.toml"
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EnvironmentFileError(f"{path}: cannot read the {target} environment ({exc})") from None
    secret = sorted(set(values) & set(SECRET_BLOCKS))
    unknown = sorted(set(values) - set(Settings.model_fields))
    if secret:
        raise EnvironmentFileError(f"{path}: {secret} are secrets; put them in Prefect Secret blocks instead")
    if unknown:
        raise EnvironmentFileError(f"{path}: unknown settings {unknown}")
    return {k: v for k, v in values.items() if v not in ("", None)}


def run_settings(target: Target | None) -> Settings:
    """TDZ_* settings with the target environment's values on top; a Sheet target needs a Sheet id."""
    if target is None:
        return Settings()
    try:
        settings = Settings(**environment_values(target))  # type: ignore[arg-type]
    except ValidationError as exc:
        raise EnvironmentFileError(f"deployments/{target}.toml: {exc.errors()[0]['msg']}") from None
    if settings.workbook == "sheets" and not settings.sheet_id:
        raise EnvironmentFileError(f"target {target} writes to a Google Sheet but has no Sheet id: set sheet_id in "
                                   f"deployments/{target}.toml or TDZ_SHEET_ID in the worker's environment")
    return settings


async def secret_from_block(block: str) -> SecretStr | None:
    try:
        secret = await Secret.aload(block)
    except ValueError:
        return None
    return SecretStr(secret.get())


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

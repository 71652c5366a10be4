"""The one settings object: every path, URL, credential and knob, from `TDZ_*` env vars or `.env`.

`load_settings` is how every entry point gets them: the TDZ_* settings, with the values of a target environment
(`deployments/<target>.toml`: local workbook, dev Sheet, prod Sheet) on top when one is named. Whatever cannot be
used is one `SettingsError` line naming the variable (or the file and key), the value's fault and what to do.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tdz.errors import SettingsError

Target = Literal["local", "dev", "prod"]
ENVIRONMENTS_DIR = Path(__file__).resolve().parent.parent / "deployments"
SECRET_FIELDS = ("zwiftpower_password", "zwiftpower_cookie", "google_service_account_json", "webhook_url")


class Settings(BaseSettings):
    """Validated configuration. Secrets are `SecretStr` so they never print in a repr or a log."""

    model_config = SettingsConfigDict(
        env_prefix="TDZ_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    archive_dir: Path = Field(Path("archive"), description="Raw payload archive, one folder per season.")
    out_dir: Path = Field(Path("out"), description="Local workbooks (`<season>.xlsx`).")
    seasons_dir: Path = Field(Path("seasons"), description="Season files (`*.toml`).")
    site_dir: Path | None = Field(None, description="Results site, a folder per season, rewritten by every publish; "
                                  "empty = no site (`tdz demo` and `tdz site` then use `<out_dir>/site`).")

    workbook: Literal["xlsx", "sheets"] = Field("xlsx", description="Where tabs are read and published.")
    sheet_id: str | None = Field(None, description="Google Sheet id or full URL (workbook=sheets).")
    google_service_account_file: Path | None = Field(None, description="Service-account key file (JSON).")
    google_service_account_json: SecretStr | None = Field(None, description="Service-account key as JSON text.")
    sheets_api_url: str = Field("https://sheets.googleapis.com", description="Sheets API base (tests: a fake).")

    zwiftpower_url: str = Field("https://zwiftpower.com", description="ZwiftPower base URL.")
    zwift_api_url: str = Field("https://us-or-rly101.zwift.com", description="Zwift public events API base URL.")
    zwiftpower_username: str | None = Field(None, description="Zwift account e-mail for the ZwiftPower login.")
    zwiftpower_password: SecretStr | None = Field(None, description="Zwift account password.")
    zwiftpower_cookie: SecretStr | None = Field(None, description="A pasted browser cookie string `k=v; k=v`.")
    zwiftpower_max_logins: int = Field(3, ge=1, le=10, description="ZwiftPower logins allowed in one run (a session "
                                                                   "lost mid-run logs in again, with backoff).")
    fetch_concurrency: int = Field(4, ge=1, le=16, description="Requests to ZwiftPower in flight at once.")
    requests_per_second: float = Field(2.0, gt=0, description="Request rate towards ZwiftPower.")
    request_timeout_seconds: float = Field(30.0, gt=0, description="Timeout of one HTTP request.")
    max_retries: int = Field(5, ge=0, le=10, description="Retries on 429/5xx/timeouts, with backoff.")
    lock_timeout_seconds: float = Field(1800.0, gt=0, description="How long a run waits for another run of the "
                                                                  "same season to finish fetching or publishing.")

    webhook_url: SecretStr | None = Field(None, description="Slack/Discord-compatible alert webhook.")

    @field_validator("sheet_id")
    @classmethod
    def _sheet_id_from_url(cls, value: str | None) -> str | None:
        """Accept the Sheet's full URL as well as its bare id."""
        if value and "/d/" in value:
            return value.split("/d/", 1)[1].split("/", 1)[0]
        return value or None

    @field_validator("sheets_api_url", "zwiftpower_url", "zwift_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        """A base URL is http(s)://host[:port][/path]: anything else fails at the first request, so refuse it now."""
        try:
            parts = urlsplit(value.strip())
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise ValueError(f"not a URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s) URL with a host, e.g. https://zwiftpower.com")
        return value.strip().rstrip("/")


def _one_line(exc: ValidationError, origin: str) -> str:
    faults = []
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "settings"
        value = error.get("input")
        shown = "" if name in SECRET_FIELDS or isinstance(value, dict) else f"={value!r}"
        faults.append(f"TDZ_{name.upper()}{shown}: {error['msg'].removeprefix('Value error, ')}")
    return f"bad setting ({origin}): " + "; ".join(faults)


def environment_values(target: Target, folder: Path = ENVIRONMENTS_DIR) -> dict[str, object]:
    """The non-secret settings of an environment; empty values mean "as the TDZ_* settings say"."""
    path = folder / f"{target}.toml"
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read the {target} environment ({exc})") from None
    secret = sorted(set(values) & set(SECRET_FIELDS))
    unknown = sorted(set(values) - set(Settings.model_fields))
    if secret:
        raise SettingsError(f"{path}: {secret} are secrets; put them in the environment or Prefect Secret blocks")
    if unknown:
        raise SettingsError(f"{path}: unknown settings {unknown}; use the TDZ_* names in lower case without TDZ_")
    return {k: v for k, v in values.items() if v not in ("", None)}


def load_settings(target: Target | None = None, **values: object) -> Settings:
    """The TDZ_* settings (env vars, `.env`), the target environment's values on top, then `values`; a target
    that writes to a Google Sheet needs a Sheet id."""
    environment = environment_values(target) if target else {}
    origin = f"deployments/{target}.toml or the environment" if target else "the environment or .env"
    try:
        settings = Settings(**{**environment, **values})  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_one_line(exc, origin)) from None
    if target and settings.workbook == "sheets" and not settings.sheet_id:
        raise SettingsError(f"target {target} writes to a Google Sheet but has no Sheet id: set sheet_id in "
                            f"deployments/{target}.toml or TDZ_SHEET_ID in the worker's environment")
    return settings

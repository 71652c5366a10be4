"""The one settings object: every path, URL, credential and knob, from `TDZ_*` env vars or `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Validated configuration. Secrets are `SecretStr` so they never print in a repr or a log."""

    model_config = SettingsConfigDict(
        env_prefix="TDZ_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    archive_dir: Path = Field(Path("archive"), description="Raw payload archive, one folder per season.")
    out_dir: Path = Field(Path("out"), description="Local workbooks (`<season>.xlsx`).")
    seasons_dir: Path = Field(Path("seasons"), description="Season files (`*.toml`).")

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
    fetch_concurrency: int = Field(4, ge=1, le=16, description="Requests to ZwiftPower in flight at once.")
    requests_per_second: float = Field(2.0, gt=0, description="Request rate towards ZwiftPower.")
    request_timeout_seconds: float = Field(30.0, gt=0, description="Timeout of one HTTP request.")
    max_retries: int = Field(5, ge=0, le=10, description="Retries on 429/5xx/timeouts, with backoff.")

    webhook_url: SecretStr | None = Field(None, description="Slack/Discord-compatible alert webhook.")

    @field_validator("sheet_id")
    @classmethod
    def _sheet_id_from_url(cls, value: str | None) -> str | None:
        """Accept the Sheet's full URL as well as its bare id."""
        if value and "/d/" in value:
            return value.split("/d/", 1)[1].split("/", 1)[0]
        return value or None



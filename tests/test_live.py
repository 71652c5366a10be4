"""Opt-in live tests against the real ZwiftPower and Zwift APIs (the Sheets one lives in test_workbook_sheets.py).

They run only when real credentials are set, so CI and a fresh clone skip them:

    TDZ_LIVE_EVENT_ID=<a Zwift event id with results on ZwiftPower>
    TDZ_LIVE_ZWIFTPOWER_USERNAME=...  TDZ_LIVE_ZWIFTPOWER_PASSWORD=...   (or TDZ_LIVE_ZWIFTPOWER_COOKIE=...)
    uv run pytest tests/test_live.py -m live

What they check is what the fakes in tests/fakes assume about the wire: if ZwiftPower changes its JSON, these fail
first, and the parser's problems say where.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from tdz.ingest.parse import parse_results, parse_sprints, parse_zwift_event
from tdz.ingest.sources.zwift import ZwiftEventsClient
from tdz.ingest.sources.zwiftpower import ZwiftPowerClient
from tdz.settings import Settings

pytestmark = pytest.mark.live

EVENT = os.environ.get("TDZ_LIVE_EVENT_ID", "")
USER = os.environ.get("TDZ_LIVE_ZWIFTPOWER_USERNAME", "")
PASSWORD = os.environ.get("TDZ_LIVE_ZWIFTPOWER_PASSWORD", "")
COOKIE = os.environ.get("TDZ_LIVE_ZWIFTPOWER_COOKIE", "")


def live_settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, archive_dir=tmp_path, zwiftpower_username=USER or None,
                    zwiftpower_password=SecretStr(PASSWORD) if PASSWORD else None,
                    zwiftpower_cookie=SecretStr(COOKIE) if COOKIE else None, requests_per_second=0.5)


@pytest.mark.skipif(not (EVENT and ((USER and PASSWORD) or COOKIE)),
                    reason="set TDZ_LIVE_EVENT_ID and ZwiftPower credentials to run against the real site")
def test_real_zwiftpower_results_and_sprints_parse_cleanly(tmp_path: Path) -> None:
    async def fetch() -> tuple[bytes, bytes]:
        client = ZwiftPowerClient.from_settings(live_settings(tmp_path))
        try:
            results, _ = await client.event_results(int(EVENT))
            return results, await client.event_sprints(int(EVENT))
        finally:
            await client.aclose()

    results, sprints = asyncio.run(fetch())
    efforts, problems = parse_results(int(EVENT), results)
    assert len(efforts) > 0 and not problems, problems[:5]
    _, sprint_problems = parse_sprints(int(EVENT), sprints)
    assert not sprint_problems, sprint_problems[:5]
    session = tmp_path / ".zwiftpower-session.json"
    if session.exists():
        assert session.stat().st_mode & 0o077 == 0  # owner-only


@pytest.mark.skipif(not (EVENT and os.environ.get("TDZ_LIVE_NETWORK")),
                    reason="set TDZ_LIVE_EVENT_ID and TDZ_LIVE_NETWORK=1 to call Zwift's public events API")
def test_real_zwift_event_details_parse(tmp_path: Path) -> None:
    async def fetch() -> bytes:
        client = ZwiftEventsClient.from_settings(live_settings(tmp_path))
        try:
            return await client.event(int(EVENT))
        finally:
            await client.aclose()

    row, _, problems = parse_zwift_event(asyncio.run(fetch()), int(EVENT))
    assert row is not None and row["event_start"] is not None and not problems

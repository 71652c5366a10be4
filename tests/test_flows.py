"""Each season flow once under a Prefect test harness, against the fake ZwiftPower, Zwift and Sheets servers: the
pipeline's steps as tasks, secrets from Secret blocks, artifacts, a failure as one line and the alert it sends.
What the steps do is tested without Prefect in test_pipeline_update.py."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path

import httpx
import pytest
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_API_URL
from prefect.states import State

from flows.config import SECRET_BLOCKS
from flows.rescore_season import rescore_season
from flows.setup import setup_prefect
from flows.tasks import ZWIFTPOWER_LIMIT
from flows.update_season import update_season
from tdz.demo import ensure_demo
from tdz.publish.tables import ORGANISER_TABS
from tdz.publish.workbook.sheets import SheetsWorkbook
from tdz.settings import Settings
from tests.club import HOOK_TOKEN, PASSWORD, ClubServers, Receiver, tab
from tests.conftest import KWCC_FILE
from tests.fakes.sheets_api import FakeSheetsAPI

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.xdist_group("prefect")]


def run_flow(flow, **parameters: object) -> State:  # noqa: ANN001
    run = {"season_file": str(KWCC_FILE)}
    for name in ("mode", "event_id", "target"):
        if name in parameters:
            run[name] = parameters.pop(name)  # type: ignore[assignment]
    return asyncio.run(flow(run=run, return_state=True, **parameters))


async def _recorded(run_ids: list[uuid.UUID]) -> tuple[list[str], list[str], list[str]]:
    await APILogHandler.aflush()
    ids = [str(i) for i in run_ids]
    # Plain REST with every field given: prefect 3.8's client sends explicit nulls that fastapi>=0.152 refuses.
    async with httpx.AsyncClient(base_url=PREFECT_API_URL.value(), timeout=10) as api:
        logs = (await api.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": ids}}, "limit": 200,
                                                       "offset": 0, "sort": "TIMESTAMP_ASC"})).json()
        artifacts = (await api.post("/artifacts/filter", json={
            "artifacts": {"flow_run_id": {"any_": ids}}, "limit": 200, "offset": 0, "sort": "CREATED_DESC"})).json()
        runs = [(await api.get(f"/flow_runs/{i}")).json() for i in ids]
    return ([log["message"] for log in logs], [f"{a['key']} {a['data']}" for a in artifacts],
            [json.dumps(r["parameters"]) + str((r.get("state") or {}).get("message")) for r in runs])


def recorded(*states: State) -> tuple[list[str], list[str], list[str]]:
    """Every log line, artifact and flow-run parameter set + state message the Prefect API holds for the runs."""
    return asyncio.run(_recorded([s.state_details.flow_run_id for s in states]))


def assert_no_secret(texts: list[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:300]}"


async def _forget_setup() -> None:
    for block in SECRET_BLOCKS.values():
        try:
            await Secret.adelete(block)
        except (ValueError, ObjectNotFound):
            pass
    async with get_client() as client:
        try:
            await client.delete_global_concurrency_limit_by_name(ZWIFTPOWER_LIMIT)
        except ObjectNotFound:
            pass


@pytest.fixture()
def prefect_setup() -> None:
    yield
    asyncio.run(_forget_setup())


@pytest.mark.usefixtures("prefect_setup")
def test_update_season_runs_the_steps_with_block_secrets_then_fails_in_one_line_and_alerts(
    club: ClubServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    done = asyncio.run(setup_prefect(Settings(_env_file=None, zwiftpower_password=PASSWORD)))
    assert "secret block tdz-zwiftpower-password: saved from TDZ_ZWIFTPOWER_PASSWORD" in done
    assert f"concurrency limit {ZWIFTPOWER_LIMIT}: created (1 slots)" in done
    monkeypatch.setenv("TDZ_ZWIFTPOWER_PASSWORD", "an-old-password")  # the block wins

    first = run_flow(update_season)
    assert first.is_completed(), first.message
    assert club.zwiftpower.counts()["results_view"] == 2 and club.zwiftpower.logins() == 1
    fetches = club.result_fetches()
    assert {e["event_id"] for e in tab(tmp_path / "out" / "kwcc-tdz-2026.xlsx", "efforts")} == {6001, 6101}

    club.zwiftpower.reset_log()
    for endpoint in ("event_list", "results_view", "event_results_api3"):
        club.zwiftpower.add_faults(endpoint, *["500"] * 10)
    failed = run_flow(update_season, mode="event", event_id=6001, fetch_retries=1, fetch_retry_delay_seconds=0.1)
    assert failed.is_failed()
    assert str(failed.message).startswith("kwcc-tdz-2026: nothing fetched: 1 request(s) to ZwiftPower failed")
    assert len(str(failed.message).splitlines()) == 1
    assert club.zwiftpower.counts()["results_view"] == 2  # the first try and one Prefect retry
    assert len(club.hook.bodies) == 1
    alert = str(club.hook.bodies[0]["text"])
    assert club.hook.bodies[0]["content"] == alert and str(failed.message) in alert
    assert "update-season" in alert and str(failed.state_details.flow_run_id) in alert

    logs, artifacts, runs = recorded(first, failed)
    assert any("zwiftpower_password: block tdz-zwiftpower-password" in line for line in logs)
    assert not any("no global concurrency limit" in line for line in logs)
    summary = next(a for a in artifacts if a.startswith("kwcc-tdz-2026-summary "))
    assert "| new efforts | 6 |" in summary and f"| ZwiftPower result fetches | {fetches} |" in summary
    assert any(a.startswith("kwcc-tdz-2026-workbook ") and "kwcc-tdz-2026.xlsx" in a for a in artifacts)
    assert any(a.startswith("kwcc-tdz-2026-problems ") for a in artifacts)
    assert_no_secret(logs + artifacts + runs + [caplog.text, alert], PASSWORD, HOOK_TOKEN)


@pytest.mark.usefixtures("prefect_setup")
def test_rescore_season_publishes_to_a_sheet_with_a_key_from_a_block_then_fails_in_one_line_and_alerts(
    demo_archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kwcc
) -> None:
    hook = Receiver()
    with FakeSheetsAPI() as api:
        key = api.new_key("tdz@club.iam.gserviceaccount.com")
        api.create_spreadsheet("1KwccSheet", editors=("tdz@club.iam.gserviceaccount.com",))
        shutil.copytree(demo_archive_dir, tmp_path / "archive")
        asyncio.run(Secret(value=key).asave(SECRET_BLOCKS["google_service_account_json"], overwrite=True))
        asyncio.run(Secret(value=hook.url(f"/services/{HOOK_TOKEN}")).asave(SECRET_BLOCKS["webhook_url"],
                                                                          overwrite=True))
        env = {"WORKBOOK": "sheets", "SHEET_ID": "1KwccSheet", "SHEETS_API_URL": api.url,
               "ARCHIVE_DIR": tmp_path / "archive", "OUT_DIR": tmp_path / "out"}
        for name, value in env.items():
            monkeypatch.setenv(f"TDZ_{name}", str(value))
        seed = ensure_demo(kwcc, tmp_path / "archive").organiser_seed
        SheetsWorkbook(Settings(_env_file=None, google_service_account_json=json.dumps(key))).ensure_organiser_tabs(
            list(ORGANISER_TABS.values()), seed)
        api.clear_log()

        first = run_flow(rescore_season)
        assert first.is_completed(), first.message
        assert 1 <= len(api.calls("batchUpdate", "values.batchUpdate", "values.update")) <= 3
        assert len(api.values("1KwccSheet", "gc")) > 100
        api.clear_log()
        again = run_flow(rescore_season)
        assert again.is_completed(), again.message
        assert api.calls("batchUpdate", "values.batchUpdate", "values.update") == []

        monkeypatch.delenv("TDZ_SHEET_ID")
        failed = run_flow(rescore_season, target="prod")
        assert failed.is_failed()
        assert failed.message == ("target prod writes to a Google Sheet but has no Sheet id: set sheet_id in "
                                  "deployments/prod.toml or TDZ_SHEET_ID in the worker's environment")
        assert len(hook.bodies) == 1 and str(failed.message) in str(hook.bodies[0]["text"])

        logs, artifacts, runs = recorded(first, again, failed)
        assert any(a.startswith("kwcc-tdz-2026-looker ") and "(https://lookerstudio.google.com/reporting/create?" in a
                   and "1KwccSheet" in a for a in artifacts)
        assert any("| Sheet reads / writes | 2 / 0 |" in a for a in artifacts)
        assert_no_secret(logs + artifacts + runs + [str(hook.bodies)], key["private_key_id"],
                         *key["private_key"].splitlines()[1:3], HOOK_TOKEN)
    hook.stop()


def test_the_parse_cache_is_keyed_on_the_payload_bytes(club: ClubServers, tmp_path: Path) -> None:
    """A payload replaced on disk without its manifest entry (a second writer) is parsed again, not served from
    the cache the manifest's recorded hashes would hit."""
    assert run_flow(update_season).is_completed()
    assert run_flow(rescore_season).is_completed()  # the parse is cached now
    payload = tmp_path / "archive" / "kwcc-tdz-2026" / "events" / "6001" / "results_view.json"
    body = json.loads(payload.read_bytes())
    ann = next(r for r in body["data"] if r["zwid"] == 2000)
    ann["time"] = [1999.5, 0]
    payload.write_text(json.dumps(body))
    assert run_flow(rescore_season).is_completed()
    efforts = tab(tmp_path / "out" / "kwcc-tdz-2026.xlsx", "efforts")
    assert next(e for e in efforts if e["rider_id"] == 2000 and e["event_id"] == 6001)["finish_time_s"] == 1999.5

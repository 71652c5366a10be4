"""The season flows under one Prefect test harness, against the fake ZwiftPower, Zwift and Sheets servers: the
hourly update, the rescore button, the failure alert, secrets kept out of logs and artifacts, Secret blocks."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import openpyxl
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
from tdz.publish.workbook.xlsx import XlsxWorkbook
from tdz.settings import Settings
from tests.conftest import KWCC_FILE
from tests.fakes.sheets_api import FakeSheetsAPI
from tests.fakes.zwift_server import FakeZwiftApi, zwift_event
from tests.fakes.zwiftpower_server import (
    FakeZwiftPower,
    list_row,
    sprint_row,
    view_row,
    zwift_row,
)
from tests.test_flow_report import Receiver

pytestmark = pytest.mark.usefixtures("prefect_harness")

USER, PASSWORD = "organiser@kwcc.example", "Tour-de-Zwift-pa55!"
HOOK_TOKEN = "T0KWCC/B0ALERTS/hook-secret-7f3a9c"
RESULT_ENDPOINTS = ("results_view", "event_results_api3", "results_zwift", "event_sprints")
STARTS = {6001: datetime(2026, 1, 6, 17, tzinfo=timezone.utc), 6101: datetime(2026, 1, 13, 18, tzinfo=timezone.utc)}
RIDERS = [["2000", "Ann", "A1", "", "", ""], ["2001", "Bob", "B2", "", "", ""], ["2002", "Cy", "B4", "", "", ""]]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeZwiftPower, FakeZwiftApi, Receiver]]:
    """Stage 1's event 6001 is in the Events tab; stage 2's 6101 is for discovery to find."""
    zp, api, hook = FakeZwiftPower().start(), FakeZwiftApi().start(), Receiver()
    zp.add_user(USER, PASSWORD)
    for zid, start in STARTS.items():
        rows = [view_row(zid, 2000 + i, RIDERS[i][1], i + 1, "C", 2400 + 9 * i + zid % 7) for i in range(3)]
        zp.results[zid], zp.slim[zid] = rows, [zwift_row(r) for r in rows]
        zp.sprints[zid] = [sprint_row(r, {"35": 60.0 + i}) for i, r in enumerate(rows)]
        api.events[zid] = zwift_event(zid, f"Tour de Zwift Stage {1 if zid == 6001 else 2}", start)
    zp.event_list = [list_row(6001, "Tour de Zwift Stage 1: Turf N Surf", STARTS[6001]),
                     list_row(6101, "Tour de Zwift Stage 2: Hell of the North", STARTS[6101]),
                     list_row(6102, "Sunday social ride", STARTS[6101])]
    yield zp, api, hook
    zp.stop()
    api.stop()
    hook.stop()


@pytest.fixture()
def club(servers: tuple[FakeZwiftPower, FakeZwiftApi, Receiver], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> tuple[FakeZwiftPower, Receiver, Path]:
    """A club's worker environment: TDZ_* variables with real secrets, an empty archive, a local workbook."""
    zp, api, hook = servers
    zp.reset_log()
    api.reset_log()
    hook.bodies.clear()
    env = {"ARCHIVE_DIR": tmp_path / "archive", "OUT_DIR": tmp_path / "out", "ZWIFTPOWER_URL": zp.url,
           "ZWIFT_API_URL": api.url, "ZWIFTPOWER_USERNAME": USER, "ZWIFTPOWER_PASSWORD": PASSWORD,
           "REQUESTS_PER_SECOND": 500, "REQUEST_TIMEOUT_SECONDS": 2, "MAX_RETRIES": 0,
           "WEBHOOK_URL": hook.url(f"/services/{HOOK_TOKEN}")}
    for name, value in env.items():
        monkeypatch.setenv(f"TDZ_{name}", str(value))
    workbook = XlsxWorkbook(tmp_path / "out" / "kwcc-tdz-2026.xlsx")
    workbook.ensure_organiser_tabs(list(ORGANISER_TABS.values()), {
        "Events": [list(ORGANISER_TABS["Events"].header), ["6001", "1", "confirmed", ""]],
        "Rider registry": [list(ORGANISER_TABS["Rider registry"].header), *RIDERS]})
    return zp, hook, workbook.path


def run_flow(flow, **parameters: object) -> State:  # noqa: ANN001
    return asyncio.run(flow(run={"season_file": str(KWCC_FILE), **parameters}, return_state=True))


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


def tab(path: Path, name: str) -> list[dict[str, object]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [list(r) for r in book[name].iter_rows(values_only=True)]
    finally:
        book.close()
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def result_fetches(zp: FakeZwiftPower) -> int:
    return sum(zp.counts()[e] for e in RESULT_ENDPOINTS)


def test_update_season_discovers_fetches_scores_publishes_then_fetches_nothing(
    club: tuple[FakeZwiftPower, Receiver, Path], caplog: pytest.LogCaptureFixture
) -> None:
    zp, hook, path = club
    first = run_flow(update_season)
    assert first.is_completed(), first.message
    assert zp.counts()["results_view"] == 2 and zp.logins() == 1
    first_fetches = result_fetches(zp)
    events = tab(path, "Events")
    assert [(e["event_id"], e["round"], e["status"]) for e in events] == [("6001", "1", "confirmed"),
                                                                        ("6101", "2", "suggested")]
    efforts = tab(path, "efforts")
    assert {(e["round_id"], e["event_id"]) for e in efforts} == {("1", 6001), ("2", 6101)}
    overall = [g for g in tab(path, "gc") if g["classification"] == "overall" and g["place"] is not None]
    assert {g["rider_id"] for g in overall} == {2000, 2001, 2002}

    zp.reset_log()
    again = run_flow(update_season)
    assert again.is_completed(), again.message
    assert result_fetches(zp) == 0 and zp.logins() == 0
    assert len(tab(path, "Events")) == 2

    logs, artifacts, runs = recorded(first, again)
    summaries = [a for a in artifacts if a.startswith("kwcc-tdz-2026-summary ")]
    assert len(summaries) == 2
    assert any("| new efforts | 6 |" in a and f"| ZwiftPower result fetches | {first_fetches} |" in a for a in summaries)
    assert any("| new efforts | 0 |" in a and "| ZwiftPower result fetches | 0 |" in a for a in summaries)
    assert any(a.startswith("kwcc-tdz-2026-workbook ") and f"({path.as_uri()})" in a for a in artifacts)
    assert any(a.startswith("kwcc-tdz-2026-problems ") for a in artifacts)
    assert any(f"no global concurrency limit '{ZWIFTPOWER_LIMIT}'" in line for line in logs)
    assert_no_secret(logs + artifacts + runs + [caplog.text], PASSWORD, HOOK_TOKEN)
    assert hook.bodies == []


def test_zwiftpower_down_retries_the_fetch_then_alerts_the_webhook_without_secrets(
    club: tuple[FakeZwiftPower, Receiver, Path], caplog: pytest.LogCaptureFixture
) -> None:
    zp, hook, path = club
    zp.add_faults("results_view", *["500"] * 10)
    zp.add_faults("event_results_api3", *["500"] * 10)
    state = run_flow(update_season, mode="event", event_id=6001, fetch_retries=1, fetch_retry_delay_seconds=0.1)
    assert state.is_failed()
    assert zp.counts()["results_view"] == 2  # the first try and one Prefect retry, each one request (no retries)
    assert len(hook.bodies) == 1
    text = hook.bodies[0]["text"]
    assert hook.bodies[0]["content"] == text
    assert "kwcc-tdz-2026" in text and "update-season" in text and "event 6001" in text and "500" in text
    assert str(state.state_details.flow_run_id) in text
    logs, artifacts, runs = recorded(state)
    assert_no_secret(logs + artifacts + runs + [caplog.text, text], PASSWORD, HOOK_TOKEN)
    assert tab(path, "Events") == [{"event_id": "6001", "round": "1", "status": "confirmed", "note": None}]


def test_bad_parameters_are_refused_before_anything_runs(club: tuple[FakeZwiftPower, Receiver, Path]) -> None:
    zp, _, path = club
    state = run_flow(update_season, mode="event", round="2")
    assert state.is_failed() and "mode=event needs event_id" in str(state.message)
    assert zp.log == [] and not (path.parent.parent / "archive").exists()
    assert not (path.parent / "kwcc-tdz-2026.last-run.json").exists()


def test_secret_blocks_win_over_settings_and_setup_creates_what_runs_need(
    club: tuple[FakeZwiftPower, Receiver, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    zp, _, _ = club
    done = asyncio.run(setup_prefect(Settings(_env_file=None, zwiftpower_password=PASSWORD)))
    assert "secret block tdz-zwiftpower-password: saved from TDZ_ZWIFTPOWER_PASSWORD" in done
    assert f"concurrency limit {ZWIFTPOWER_LIMIT}: created (1 slots)" in done
    assert all(PASSWORD not in line for line in done)
    try:
        monkeypatch.setenv("TDZ_ZWIFTPOWER_PASSWORD", "an-old-password")
        state = run_flow(update_season, mode="event", event_id=6001, fetch_retries=0)
        assert state.is_completed(), state.message
        assert zp.logins() == 1 and zp.counts()["results_view"] == 1
        logs, _, _ = recorded(state)
        assert any("zwiftpower_password: block tdz-zwiftpower-password" in line for line in logs)
        assert not any("no global concurrency limit" in line for line in logs)
    finally:
        asyncio.run(_forget_setup())


async def _forget_setup() -> None:
    for block in SECRET_BLOCKS.values():
        try:
            await Secret.adelete(block)
        except (ValueError, ObjectNotFound):
            pass
    async with get_client() as client:
        await client.delete_global_concurrency_limit_by_name(ZWIFTPOWER_LIMIT)


def test_rescore_to_a_sheet_reads_once_writes_once_then_not_at_all(
    demo_archive_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kwcc
) -> None:
    with FakeSheetsAPI() as api:
        key = api.new_key("tdz@club.iam.gserviceaccount.com")
        api.create_spreadsheet("1KwccSheet", editors=("tdz@club.iam.gserviceaccount.com",))
        shutil.copytree(demo_archive_dir, tmp_path / "archive")
        env = {"WORKBOOK": "sheets", "SHEET_ID": "1KwccSheet", "SHEETS_API_URL": api.url,
               "GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(key), "ARCHIVE_DIR": tmp_path / "archive",
               "OUT_DIR": tmp_path / "out"}
        for name, value in env.items():
            monkeypatch.setenv(f"TDZ_{name}", str(value))
        seed = ensure_demo(kwcc, tmp_path / "archive").organiser_seed
        SheetsWorkbook(Settings()).ensure_organiser_tabs(list(ORGANISER_TABS.values()), seed)
        api.clear_log()

        first = run_flow(rescore_season)
        assert first.is_completed(), first.message
        writes = api.calls("batchUpdate", "values.batchUpdate", "values.update")
        assert len(api.calls("get")) <= 1 and len(api.calls("values.batchGet")) == 1 and 1 <= len(writes) <= 3
        gc = api.values("1KwccSheet", "gc")
        assert gc[0][:3] == ["season_id", "classification", "place"] and len(gc) > 100

        api.clear_log()
        again = run_flow(rescore_season)
        assert again.is_completed(), again.message
        assert api.calls("batchUpdate", "values.batchUpdate", "values.update") == []
        assert len(api.calls("get")) <= 1 and len(api.calls("values.batchGet")) == 1

        logs, artifacts, runs = recorded(first, again)
        assert any(a.startswith("kwcc-tdz-2026-looker ") and "(https://lookerstudio.google.com/reporting/create?" in a
                   and "1KwccSheet" in a for a in artifacts)
        assert any("| Sheet reads / writes | 2 / 0 |" in a for a in artifacts)
        assert_no_secret(logs + artifacts + runs, key["private_key_id"], *key["private_key"].splitlines()[1:3])

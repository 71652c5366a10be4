"""What an organiser types (or Excel turns it into), through the pipeline over the local workbook: DQs that cover
manual results, one PB per ride, ties to the millisecond, bad rows on the problems tab."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from tdz.pipeline import RunRequest, RunResult, rescore_season
from tdz.publish.tables import ORGANISER_TABS, Grid
from tdz.publish.workbook.xlsx import XlsxWorkbook
from tdz.routes import find_route
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
    tempus, twist = find_route("Tempus Fugit").id, find_route("Triple Twist").id
    store_event(archive, "mini-points", 501, "Round 1", datetime(2025, 11, 11, 18, tzinfo=UTC),
                [result_row(ANN, 1500.0), result_row(BOB, 1510.0), result_row(CY, 1520.0)], route_id=tempus)
    store_event(archive, "mini-points", 502, "Round 1 again", datetime(2025, 11, 13, 18, tzinfo=UTC),
                [result_row(ANN, 1400.0), result_row(BOB, 1600.0)], route_id=tempus)
    store_event(archive, "mini-points", 503, "Round 3", datetime(2025, 11, 25, 18, tzinfo=UTC),
                [result_row(ANN, 1232.053), result_row(BOB, 1300.0)], route_id=twist)
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
                [result_row(ANN, 1232.053, pen="C"), result_row(BOB, 1240.5, pen="C")],
                route_id=find_route("Turf N Surf").id)
    path = workbook(tmp_path, "mini-time", {
        "Rider registry": [[str(ANN), "Ann", "A1", "", "", ""], [str(BOB), "Bob", "B1", "", "", ""],
                           [str(CY), "Cy", "B1", "", "", ""]],
        "Manual results": [[str(CY), "1", "0:20:32.053", "", "Garmin"]]})
    rescore(tmp_path, season)
    places = {r["rider_id"]: r["place"] for r in tab(path, "stage_results")}
    assert places == {ANN: 1, CY: 1, BOB: 3}


# --- the local workbook as Excel and LibreOffice leave it ----------------------------------------------------------

REGISTRY = [[str(ANN), "Ann", "A1", "", "", ""], [str(BOB), "Bob", "B1", "", "", ""],
            [str(CY), "Cy", "B1", "", "", ""], [str(DI), "Di", "A1", "F", "", ""]]


@pytest.fixture()
def tour(tmp_path: Path) -> Path:
    """Two stages; everyone rode both."""
    season = season_file(tmp_path, TIME_TOML)
    for event, stage_start, base, route in ((601, datetime(2026, 1, 6, 10, tzinfo=UTC), 1500.0, "Turf N Surf"),
                                            (602, datetime(2026, 1, 13, 10, tzinfo=UTC), 1700.0,
                                             "Hell of the North")):
        store_event(tmp_path / "archive", "mini-time", event, f"Stage {event - 600}", stage_start,
                    [result_row(r, base + 10 * i, pen="C") for i, r in enumerate((ANN, BOB, CY, DI))],
                    route_id=find_route(route).id)
    return season


def typed(path: Path, tab_name: str, row: int, column: str, value: object, number_format: str) -> None:
    """A cell as Excel or LibreOffice stores what was typed into a cell that is not text-formatted."""
    book = openpyxl.load_workbook(path)
    sheet = book[tab_name]
    cell = sheet.cell(row=row, column=ORGANISER_TABS[tab_name].header.index(column) + 1)
    cell.value, cell.number_format = value, number_format
    book.save(path)


def problems(path: Path) -> set[tuple[str, int, str]]:
    return {(p["source"], p["row"], p["column"]) for p in tab(path, "problems")}


def stage(path: Path, round_id: str) -> dict[int, float]:
    return {r["rider_id"]: r["raw_time_s"] for r in tab(path, "stage_results") if r["round_id"] == round_id}


def test_tdz_creates_organiser_columns_as_text(tmp_path: Path) -> None:
    path = workbook(tmp_path, "mini-time", {"Manual results": [[str(ANN), "1", "41:23", "", "Strava"]]})
    book = openpyxl.load_workbook(path)
    for name, organiser_tab in ORGANISER_TABS.items():
        sheet = book[name]
        for index in range(len(organiser_tab.columns)):
            assert sheet.column_dimensions[get_column_letter(index + 1)].number_format == "@", (name, index)
    assert book["Manual results"]["C2"].value == "41:23" and book["Manual results"]["C2"].number_format == "@"


def test_times_excel_turned_into_hours_are_read_as_meant_or_reported(tour: Path, tmp_path: Path) -> None:
    path = workbook(tmp_path, "mini-time", {
        "Rider registry": REGISTRY,
        "Manual results": [[str(ANN), "1", "", "", "Strava"], [str(BOB), "1", "", "", "Strava"],
                           [str(CY), "1", "", "", "Strava"], [str(DI), "1", "", "", "Strava"]],
        "Handicaps": [["B1", "", ""]]})
    typed(path, "Manual results", 2, "time", timedelta(hours=41, minutes=23), "[h]:mm:ss")  # typed 41:23
    typed(path, "Manual results", 3, "time", timedelta(hours=75), "[h]:mm:ss")  # typed 75:00
    typed(path, "Manual results", 4, "time", time(9, 30), "h:mm")  # typed 9:30: 9 min 30 s, or 9 h 30 min?
    typed(path, "Manual results", 5, "time", datetime(2026, 1, 12), "yyyy-mm-dd")  # a date is no time
    typed(path, "Handicaps", 2, "seconds", time(5, 0), "h:mm")  # typed 5:00
    rescore(tmp_path, tour)
    assert stage(path, "1") == {ANN: 2483.0, BOB: 4500.0, CY: 1520.0, DI: 1530.0}
    assert problems(path) >= {("Manual results", 4, "time"), ("Manual results", 5, "time")}
    why = {p["row"]: p["why"] for p in tab(path, "problems") if p["source"] == "Manual results"}
    assert "9 min 30 s" in why[4] and "9 h 30 min" in why[4] and "format the column as text" in why[4]
    assert "a date" in why[5]
    gc = {g["rider_id"]: g["handicap_s"] for g in tab(path, "gc") if g["classification"] == "overall"}
    assert gc[BOB] == 300


def test_a_formula_keeps_its_value_after_tdz_saves_the_workbook(tour: Path, tmp_path: Path) -> None:
    path = workbook(tmp_path, "mini-time", {"Rider registry": REGISTRY, "Handicaps": [["B1", "", ""]]})
    typed(path, "Handicaps", 2, "seconds", "=300+60", "General")
    excel_saved(path, "Handicaps", "C2", "360")  # Excel computes the formula and saves its value
    for _ in range(2):  # the first run re-saves the file (publishing); the second reads it again
        rescore(tmp_path, tour)
        gc = {g["rider_id"]: g["handicap_s"] for g in tab(path, "gc") if g["classification"] == "overall"}
        assert gc[BOB] == 360 and not problems(path)
        book = openpyxl.load_workbook(path, data_only=True)
        assert book["Handicaps"]["C2"].value == 360
        assert openpyxl.load_workbook(path)["Handicaps"]["C2"].value == "=300+60"  # the formula stays


def test_a_formula_without_a_saved_value_is_reported(tour: Path, tmp_path: Path) -> None:
    path = workbook(tmp_path, "mini-time", {"Rider registry": REGISTRY, "Handicaps": [["B1", "", ""]]})
    typed(path, "Handicaps", 2, "seconds", "=300+60", "General")  # never opened in Excel: no value saved
    rescore(tmp_path, tour)
    why = next(p for p in tab(path, "problems") if p["source"] == "Handicaps")
    assert (why["row"], why["column"], why["value"]) == (2, "seconds", "=300+60")
    assert "no saved value" in why["why"]


def excel_saved(path: Path, tab_name: str, cell: str, value: str) -> None:
    """Put a formula's computed value into the file, as Excel does when it saves (openpyxl cannot)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    with zipfile.ZipFile(path) as book:
        parts = {i.filename: book.read(i.filename) for i in book.infolist()}
    sheets = ElementTree.fromstring(parts["xl/workbook.xml"]).iterfind("m:sheets/m:sheet", ns)
    rid = next(s.get(f"{{{ns['r']}}}id") for s in sheets if s.get("name") == tab_name)
    rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"]).iterfind("p:Relationship", ns)
    member = "xl/" + next(r.get("Target") for r in rels if r.get("Id") == rid).removeprefix("/xl/")
    xml = parts[member].decode()
    patched = re.sub(rf'(<c r="{cell}"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(</v>)?', rf"\g<1>\g<2><v>{value}</v>", xml)
    assert patched != xml
    parts[member] = patched.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)


def test_unknown_groups_riders_and_nonsense_land_on_the_problems_tab(tour: Path, tmp_path: Path) -> None:
    good_manual = [str(DI), "2", "20:00", "", "Strava"]
    clean = workbook(tmp_path, "mini-time", {"Rider registry": REGISTRY, "Manual results": [good_manual]})
    rescore(tmp_path, tour)
    expected = {name: tab(clean, name) for name in ("stage_results", "gc")}
    clean.unlink()
    path = workbook(tmp_path, "mini-time", {
        "Rider registry": [*REGISTRY,
                           ["105", "Eve", "Q7", "", "", ""],               # unknown group
                           ["106", "Fay", "A1", "", "Z", ""],              # no power categories in a time season
                           ["\u0661\u0660\u0667", "Gil", "A1", "", "", ""]],  # 107 in Arabic-Indic digits
        "Handicaps": [["Z9", "", "600"],                                   # no rider has group Z9
                      ["", "999999", "60"],                                # no such rider
                      ["A1", "", "1" + "0" * 60],                          # 10^60 s
                      ["B1", "", "-30"]],
        "Manual results": [[str(ANN), "1", "0:00", "", "Strava"],          # zero
                           [str(BOB), "1", "4000:00:00", "", "Strava"],     # absurd
                           [str(CY), "2", "20:00", "1e9", "Strava"],
                           good_manual,
                           ["108", "1", "20:00", "", "Strava"]],            # not in the registry: does not count
        "DQ": [["0", "", "", "drafting", ""], ["1" * 30, "", "", "drafting", ""]]})
    rescore(tmp_path, tour)
    assert problems(path) >= {
        ("Rider registry", 6, "group"), ("Rider registry", 7, "category"), ("Rider registry", 8, "rider_id"),
        ("Handicaps", 2, "group"), ("Handicaps", 3, "rider_id"), ("Handicaps", 4, "seconds"),
        ("Handicaps", 5, "seconds"), ("Manual results", 2, "time"), ("Manual results", 3, "time"),
        ("Manual results", 4, "penalty"), ("Manual results", 6, "rider_id"), ("DQ", 2, "rider_id"),
        ("DQ", 3, "rider_id")}
    for name, rows in expected.items():  # the bad rows changed nothing
        assert tab(path, name) == rows, name

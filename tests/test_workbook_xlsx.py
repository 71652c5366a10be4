"""The .xlsx backend against real files: each test writes a workbook in tmp_path and reloads it with openpyxl."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tdz.publish.tables import ABOUT, EFFORTS, ORGANISER_TABS, PROBLEMS, Table, conform
from tdz.publish.workbook import TabNameClash, Workbook
from tdz.publish.workbook.cells import CONTENT_HASH_KEY, publish_grids
from tdz.publish.workbook.xlsx import XlsxFileError, XlsxWorkbook
from tests.wire import stored

ORGANISER = list(ORGANISER_TABS.values())


def frame(table: Table, rows: list[dict[str, object]]) -> pd.DataFrame:
    """A conformed frame; columns a row leaves out are missing values."""
    return conform(table, pd.DataFrame([{c: row.get(c) for c in table.names} for row in rows], columns=table.names))


def about(**facts: str) -> pd.DataFrame:
    return frame(ABOUT, [{"key": k, "value": v} for k, v in facts.items()])


def problems(n: int) -> pd.DataFrame:
    rows = [{"source": "DQ", "row": i + 2, "value": f"x{i}", "why": "not a number"} for i in range(n)]
    return frame(PROBLEMS, rows)


def effort(rider_id: int, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "season_id": "kwcc-tdz-2026",
        "round_id": "1.1",
        "stage": "1",
        "event_id": 4_512_345,
        "event_name": "KWCC TdZ Stage 1",
        "event_start": pd.Timestamp("2026-01-05T18:30:00Z"),
        "rider_id": rider_id,
        "rider_name": f"Rider {rider_id}",
        "pen": "B",
        "finish_time_s": 1834.25,
        "penalty_s": 0.0,
        "total_time_s": 1834.25,
        "is_best": True,
        "is_pb": False,
        "status": "ok",
        "status_reason": "",
        "as_of": pd.Timestamp("2026-01-05T18:30:00Z"),
    }
    return base | extra


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()


@pytest.fixture
def book(tmp_path: Path) -> XlsxWorkbook:
    return XlsxWorkbook(tmp_path / "out" / "season.xlsx")


def test_satisfies_the_workbook_protocol(book: XlsxWorkbook) -> None:
    workbook: Workbook = book
    assert workbook.read_organiser_tabs(ORGANISER)["Events"] == [ORGANISER_TABS["Events"].header]


def test_organiser_tabs_created_with_header_comments_and_seed(book: XlsxWorkbook) -> None:
    events = ORGANISER_TABS["Events"]
    seed = {
        "Events": [events.header, ["4512345", "1.1", "confirmed", "stage 1 A"], ["0042", "1.2", "suggested", ""]],
        "Rider registry": [["123", "Ann Example", "A1", "F", "", "no"]],
    }
    created = book.ensure_organiser_tabs(ORGANISER, seed=seed)

    assert created == [t.name for t in ORGANISER]
    assert book.path.exists()
    grids = book.read_organiser_tabs(ORGANISER)
    assert grids["Events"] == seed["Events"]
    assert grids["Rider registry"] == [ORGANISER_TABS["Rider registry"].header, seed["Rider registry"][0]]
    assert grids["DQ"] == [ORGANISER_TABS["DQ"].header]

    loaded = openpyxl.load_workbook(book.path)
    assert loaded.sheetnames == [t.name for t in ORGANISER]
    sheet = loaded["Events"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert [cell.comment.text for cell in sheet[1]] == [c.meaning for c in events.columns]
    assert sheet["A3"].value == "0042" and sheet["A3"].data_type == "s"
    assert all(sheet.column_dimensions[letter].width >= len(name) for letter, name in zip("ABCD", events.header))


def test_ensure_creates_only_missing_tabs_before_output_tabs(book: XlsxWorkbook) -> None:
    book.publish({"problems": problems(1), "about": about(season_id="s")})
    book.ensure_organiser_tabs([ORGANISER_TABS["Events"]])
    assert book.ensure_organiser_tabs([ORGANISER_TABS["Events"]]) == []

    created = book.ensure_organiser_tabs(ORGANISER)

    assert created == [t.name for t in ORGANISER if t.name != "Events"]
    assert openpyxl.load_workbook(book.path).sheetnames == [t.name for t in ORGANISER] + ["problems", "about"]


def test_organiser_edits_survive_ensure_and_publish(book: XlsxWorkbook) -> None:
    book.ensure_organiser_tabs(ORGANISER)
    by_hand = openpyxl.load_workbook(book.path)
    dq = by_hand["DQ"]
    dq.append(["98765", "2", "", "wrong route", "Sam"])
    dq["F1"] = "checked"
    dq["F1"].font = openpyxl.styles.Font(italic=True)
    by_hand["Events"]["A2"] = 4512345
    by_hand.create_sheet("Notes")["A1"] = "=1+1"
    by_hand.save(book.path)

    assert book.ensure_organiser_tabs(ORGANISER) == []
    report = book.publish({"problems": problems(2), "about": about(season_id="s")})

    assert report.write_calls == 1
    grids = book.read_organiser_tabs(ORGANISER)
    assert grids["DQ"] == [[*ORGANISER_TABS["DQ"].header, "checked"], ["98765", "2", "", "wrong route", "Sam", ""]]
    assert grids["Events"][1] == ["4512345", "", "", ""]
    reloaded = openpyxl.load_workbook(book.path)
    assert reloaded["DQ"]["F1"].font.italic
    assert reloaded["Notes"]["A1"].value == "=1+1" and reloaded["Notes"]["A1"].data_type == "f"
    assert reloaded.sheetnames[: len(ORGANISER)] == [t.name for t in ORGANISER]
    rules = {str(r.sqref).split(":")[0]: r.formula1 for r in reloaded["Rider registry"].data_validations.dataValidation}
    assert rules == {"D2": '"M,F"', "F2": '"yes,no"'}


def test_ensure_keeps_the_organisers_active_tab(book: XlsxWorkbook) -> None:
    by_hand = openpyxl.Workbook()
    by_hand.active.title = "Notes"
    book.path.parent.mkdir(parents=True)
    by_hand.save(book.path)

    book.ensure_organiser_tabs(ORGANISER)

    loaded = openpyxl.load_workbook(book.path)
    assert loaded.sheetnames == [t.name for t in ORGANISER] + ["Notes"]
    assert loaded.active.title == "Notes"
    assert not any(s.sheet_view.tabSelected for s in loaded.worksheets if s.title != "Notes")


def test_republishing_the_same_tables_writes_nothing(book: XlsxWorkbook) -> None:
    tables = {"efforts": frame(EFFORTS, [effort(1), effort(2)]), "about": about(season_id="s")}
    first = book.publish(tables)
    before = file_bytes(book.path)
    mtime = book.path.stat().st_mtime_ns

    again = book.publish({name: df.copy() for name, df in tables.items()})

    assert first.write_calls == 1 and first.tabs_written == ["efforts", "about"]
    assert again.write_calls == 0 and again.tabs_written == []
    assert again.tabs_unchanged == ["efforts", "about"]
    assert file_bytes(book.path) == before and book.path.stat().st_mtime_ns == mtime


def test_a_changed_table_rewrites_in_place(book: XlsxWorkbook) -> None:
    book.ensure_organiser_tabs(ORGANISER)
    book.publish({"efforts": frame(EFFORTS, [effort(1)]), "about": about(season_id="s")})
    first_hash = dict(stored(book.path, "about")[1:])[CONTENT_HASH_KEY]

    report = book.publish({"efforts": frame(EFFORTS, [effort(1, pen="A")]), "about": about(season_id="s")})

    assert report.write_calls == 1 and report.tabs_written == ["efforts", "about"]
    rows = stored(book.path, "efforts")
    assert rows[1][EFFORTS.names.index("pen")] == "A"
    assert dict(stored(book.path, "about")[1:])[CONTENT_HASH_KEY] != first_hash
    assert openpyxl.load_workbook(book.path).sheetnames == [t.name for t in ORGANISER] + ["efforts", "about"]


def test_existing_output_tab_keeps_its_position_and_new_ones_are_appended(book: XlsxWorkbook) -> None:
    book.publish({"problems": problems(1), "about": about(season_id="s")})
    by_hand = openpyxl.load_workbook(book.path)
    by_hand.move_sheet("about", offset=-1)
    by_hand.save(book.path)

    book.publish({"problems": problems(3), "efforts": frame(EFFORTS, [effort(1)]), "about": about(season_id="t")})

    assert openpyxl.load_workbook(book.path).sheetnames == ["about", "problems", "efforts"]


def test_a_shrinking_tab_has_no_leftover_rows(book: XlsxWorkbook) -> None:
    book.publish({"problems": problems(5)})
    by_hand = openpyxl.load_workbook(book.path)
    by_hand["problems"].merge_cells("A3:B3")
    by_hand.save(book.path)

    book.publish({"problems": problems(2)})

    expected, _ = publish_grids({"problems": problems(2)})
    assert stored(book.path, "problems") == expected["problems"]
    sheet = openpyxl.load_workbook(book.path)["problems"]
    assert sheet.max_row == 3 and not sheet.merged_cells.ranges


def test_formula_like_text_stays_text_after_reload(book: XlsxWorkbook) -> None:
    hostile = ['=IMPORTXML("http://x.test","//a")', "+1", "-x", "@x", "=1+1"]
    table = frame(PROBLEMS, [{"source": "Riders", "value": v, "why": v} for v in hostile])

    book.publish({"problems": table})

    for data_only in (False, True):
        sheet = openpyxl.load_workbook(book.path, data_only=data_only)["problems"]
        values = [row[PROBLEMS.names.index("value")] for row in sheet.iter_rows(min_row=2)]
        assert [c.value for c in values] == hostile
        assert {c.data_type for c in values} == {"s"}
    with zipfile.ZipFile(book.path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_numbers_bools_and_datetimes_keep_their_types(book: XlsxWorkbook) -> None:
    rows = [effort(101, finish_time_s=1834.25, is_pb=True), effort(102, finish_time_s=1901.0, avg_wkg=3.45)]
    tables = {"efforts": frame(EFFORTS, rows)}

    book.publish(tables)

    sheet = openpyxl.load_workbook(book.path)["efforts"]
    header = [c.value for c in sheet[1]]
    first, second = ({h: c.value for h, c in zip(header, row)} for row in sheet.iter_rows(min_row=2))
    assert header == EFFORTS.names
    assert first["rider_id"] == 101 and type(first["rider_id"]) is int
    assert first["event_id"] == 4_512_345 and type(first["event_id"]) is int
    assert first["finish_time_s"] == 1834.25
    assert second["finish_time_s"] == 1901 and second["avg_wkg"] == 3.45
    assert first["is_pb"] is True and first["is_best"] is True and second["is_pb"] is False
    assert first["event_start"] == "2026-01-05T18:30:00Z"
    assert first["avg_wkg"] is None and first["status_reason"] is None
    expected, _ = publish_grids(tables)
    assert stored(book.path, "efforts") == expected["efforts"]


def test_organiser_cells_read_as_the_text_a_person_sees(book: XlsxWorkbook) -> None:
    book.ensure_organiser_tabs(ORGANISER)
    by_hand = openpyxl.load_workbook(book.path)
    manual = by_hand["Manual results"]
    manual.append(["00123", "3.1", 1834.5, 30, "strava"])
    manual.append([4567, 3.0, "31:02", None, datetime(2026, 1, 5)])
    manual.append([None, None, None, None, None])
    manual["G9"] = None
    by_hand.save(book.path)
    before = file_bytes(book.path)
    mtime = book.path.stat().st_mtime_ns

    grid = book.read_organiser_tabs([ORGANISER_TABS["Manual results"]])["Manual results"]

    assert grid == [
        ORGANISER_TABS["Manual results"].header,
        ["00123", "3.1", "1834.5", "30", "strava"],
        ["4567", "3", "31:02", "", date(2026, 1, 5).isoformat()],
    ]
    assert file_bytes(book.path) == before and book.path.stat().st_mtime_ns == mtime


def test_a_missing_organiser_tab_reads_as_its_header(book: XlsxWorkbook) -> None:
    handicaps = ORGANISER_TABS["Handicaps"]
    assert book.read_organiser_tabs([handicaps]) == {"Handicaps": [handicaps.header]}
    assert not book.path.exists()

    book.ensure_organiser_tabs([ORGANISER_TABS["Events"]])

    assert book.read_organiser_tabs([handicaps]) == {"Handicaps": [handicaps.header]}


def test_an_empty_frame_publishes_a_header_only_tab(book: XlsxWorkbook) -> None:
    book.publish({"problems": problems(3)})

    book.publish({"problems": PROBLEMS.empty(), "about": about(season_id="s")})

    assert stored(book.path, "problems") == [PROBLEMS.names]
    assert openpyxl.load_workbook(book.path)["problems"].freeze_panes == "A2"


def test_an_output_tab_named_like_an_organiser_tab_is_refused(book: XlsxWorkbook) -> None:
    book.ensure_organiser_tabs(ORGANISER)
    before = file_bytes(book.path)

    with pytest.raises(TabNameClash, match="Events"):
        book.publish({"events": problems(1)})

    assert file_bytes(book.path) == before


def test_saves_leave_no_temp_files_and_a_broken_file_is_a_clear_error(book: XlsxWorkbook) -> None:
    book.ensure_organiser_tabs(ORGANISER)
    book.publish({"problems": problems(1)})
    assert sorted(p.name for p in book.path.parent.iterdir()) == [f".{book.path.name}.lock", book.path.name]

    book.path.write_bytes(b"not a zip")
    with pytest.raises(XlsxFileError, match="season.xlsx"):
        book.read_organiser_tabs(ORGANISER)
    with pytest.raises(XlsxFileError):
        book.publish({"problems": problems(1)})


def test_every_kind_of_column_reads_back_as_the_cell_rules_say(book: XlsxWorkbook) -> None:
    """The output tabs' rows are written a column at a time (xlsx_parts.frame_rows_xml); what a reader gets back
    is what `cells` says of each value, the edge cases included."""
    odd = pd.DataFrame({
        "ids": pd.array([1, None, 2**60], dtype="Int64"), "seconds": [1.0, float("nan"), 0.1],
        "flags": pd.array([True, None, False], dtype="boolean"), "text": pd.array(["a<b & c", None, " x "],
                                                                                  dtype="string"),
        "pools": pd.Categorical(["gender=F", "gender=F", None]), "forever": [float("inf"), -1.5, 3.0],
        "starts": pd.to_datetime([datetime(2026, 1, 1), None, datetime(2026, 2, 1, 12, 30)], utc=True),
    })
    book.publish({"odd": odd})
    expected, _ = publish_grids({"odd": odd})
    assert stored(book.path, "odd") == expected["odd"]
    assert expected["odd"][1:] == [[1, 1, True, "a<b & c", "gender=F", "", "2026-01-01T00:00:00Z"],
                                   ["", "", "", "", "gender=F", -1.5, ""],
                                   [2**60, 0.1, False, " x ", "", 3, "2026-02-01T12:30:00Z"]]

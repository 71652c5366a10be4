"""Cells of the local `.xlsx` as tdz writes and reads them: organiser tabs created text-formatted with notes and
dropdowns, output headers, text that never turns into a formula, and cells read back as the organiser's text (a
cell held as a number, date, time or duration kept as a `TypedCell`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tdz.publish.tables import Grid, OrganiserTab, TypedCell, UnsavedFormula
from tdz.publish.workbook.cells import Cell

MAX_CELL_CHARS = 32_767
"""Excel refuses longer text in one cell."""
HEADER_FONT = Font(bold=True)
LAST_ROW = 1_048_576
TEXT_FORMAT = "@"
"""Excel's and LibreOffice's "Text" number format: what is typed stays as typed (`41:23` is not 41 hours)."""


def find_sheet(sheetnames: Sequence[str], name: str) -> str | None:
    """The sheet called `name`, matched exactly first, then ignoring case as Excel does."""
    if name in sheetnames:
        return name
    folded = name.casefold()
    return next((s for s in sheetnames if s.casefold() == folded), None)


def as_text(value: object) -> str:
    """A cell as the organiser reads it: whole numbers without `.0`, dates and times as ISO text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if value.microsecond == 0 else "auto")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        shown = f"{secs:06.3f}".rstrip("0").rstrip(".") if secs % 1 else f"{int(secs):02d}"
        return f"{sign}{int(hours)}:{int(minutes):02d}:{shown}"
    return str(value)


def typed_text(value: object) -> str:
    """A cell as text; a cell the file holds as anything but text keeps what it holds (`TypedCell`)."""
    if isinstance(value, UnsavedFormula):
        return TypedCell(str(value), value)
    if isinstance(value, str):
        return value
    return TypedCell(as_text(value), value)


def filled_cells(sheet: object) -> dict[tuple[int, int], object]:
    """Every non-empty cell of a sheet by (row, column); read-only sheets may skip rows and cells."""
    found: dict[tuple[int, int], object] = {}
    for row in sheet.iter_rows():  # type: ignore[attr-defined]
        for cell in row:
            value = cell.value
            if value is None or value == "":
                continue
            found[(cell.row, cell.column)] = value
    return found


def grid_of(found: Mapping[tuple[int, int], object], render: Callable[[object], object]) -> list[list[object]]:
    """A rectangular grid up to the last filled row and column."""
    if not found:
        return []
    height = max(r for r, _ in found)
    width = max(c for _, c in found)
    grid: list[list[object]] = [[""] * width for _ in range(height)]
    for (r, c), value in found.items():
        grid[r - 1][c - 1] = render(value)
    return grid


def storable(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]


def put(sheet: Worksheet, row: int, column: int, value: Cell, *, as_text: bool = False) -> None:
    """Write one cell; text is always stored as text, so `=…` never becomes a formula (and with `as_text` the
    cell is text-formatted, as organiser columns are)."""
    if isinstance(value, str):
        text = storable(value)
        if not text:
            return
        cell = sheet.cell(row=row, column=column)
        cell.value = text
        cell.data_type = "s"
        if as_text:
            cell.number_format = TEXT_FORMAT
    else:
        sheet.cell(row=row, column=column).value = value


def set_widths(sheet: Worksheet, rows: Sequence[Sequence[object]], minimum: int = 8, maximum: int = 50) -> None:
    widths: dict[int, int] = {}
    for row in rows[:200]:
        for c, value in enumerate(row, start=1):
            widths[c] = max(widths.get(c, 0), len(str(value)))
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, minimum), maximum)


def clear_sheet(sheet: Worksheet) -> None:
    """Empty a sheet in place (its position, name and any link to it stay)."""
    for merged in list(sheet.merged_cells.ranges):
        sheet.unmerge_cells(str(merged))
    if sheet.max_row:
        sheet.delete_rows(1, sheet.max_row)
    sheet.row_dimensions.clear()


def write_organiser_tab(sheet: Worksheet, tab: OrganiserTab, seed: Grid | None) -> None:
    rows = list(seed or [])
    if rows and [c.strip() for c in rows[0]] == tab.header:
        rows = rows[1:]
    for c, column in enumerate(tab.columns, start=1):
        cell = sheet.cell(row=1, column=c)
        cell.value = storable(column.name)
        cell.data_type = "s"
        cell.font = HEADER_FONT
        cell.comment = Comment(column.meaning, "tdz", width=300, height=80)
        sheet.column_dimensions[get_column_letter(c)].number_format = TEXT_FORMAT  # cells typed later stay text
    for r, row in enumerate(rows, start=2):
        for c, text in enumerate(row, start=1):
            put(sheet, r, c, str(text), as_text=True)
    for name, choices in tab.choices.items():
        if name not in tab.header:
            continue
        letter = get_column_letter(tab.header.index(name) + 1)
        rule = DataValidation(
            type="list",
            formula1='"' + ",".join(choices) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            error=f"Usual values: {', '.join(choices)}",
        )
        rule.add(f"{letter}2:{letter}{LAST_ROW}")
        sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    set_widths(sheet, [tab.header, *rows], minimum=14, maximum=40)


def write_output_header(sheet: Worksheet, grid: Sequence[Sequence[Cell]]) -> None:
    """The header row in bold, frozen, and column widths fitted to the first rows; the data rows are added to the
    saved file by `xlsx_parts.with_rows`."""
    for c, value in enumerate(grid[0] if grid else (), start=1):
        put(sheet, 1, c, value)
        sheet.cell(row=1, column=c).font = HEADER_FONT
    sheet.freeze_panes = "A2"
    set_widths(sheet, grid)

"""The local `.xlsx` workbook: organiser tabs read and output tabs published in one file, with openpyxl.

The file is what an organiser opens in Excel or LibreOffice, so every write keeps their work: organiser tabs and
any tab tdz does not publish are loaded and saved back untouched (values, formulas, styles, comments, data
validation survive; charts and pivot tables do not, as openpyxl cannot keep them). A publish is one atomic
save (temp file in the same folder, then rename), so a crash never leaves a half-written workbook, and a publish
whose content hash equals the one already in the `about` tab does not touch the file at all.

Sheet names ignore case in Excel (and openpyxl renames a clashing new sheet `Riders` to `Riders1`), so tabs are
found case-insensitively, and an output tab whose name matches an organiser tab is refused rather than written
over the organiser's rows. Output tabs are tdz's own: a publish loads them empty and writes their rows as sheet XML
(`xlsx_parts`), which keeps a publish of a big season to a second or two.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zipfile import BadZipFile

import openpyxl
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook as Book
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tdz.errors import TdzError
from tdz.files import atomic_write, holding
from tdz.publish.tables import ORGANISER_TABS, OrganiserTab, TypedCell, UnsavedFormula
from tdz.publish.workbook import (
    Grid,
    PublishProgress,
    PublishReport,
    TabNameClash,
    WorkbookCalls,
    refuse_clashes,
)
from tdz.publish.workbook.cells import (
    CONTENT_HASH_KEY,
    Cell,
    content_hash,
    publish_grids,
)
from tdz.publish.workbook.xlsx_parts import (
    rows_xml,
    with_cached_values,
    with_rows,
    without_sheets,
)

MAX_CELL_CHARS = 32_767
"""Excel refuses longer text in one cell."""
HEADER_FONT = Font(bold=True)
LAST_ROW = 1_048_576
TEXT_FORMAT = "@"
"""Excel's and LibreOffice's "Text" number format: what is typed stays as typed (`41:23` is not 41 hours)."""


class XlsxFileError(TdzError, ValueError):
    """The workbook file cannot be used: not an .xlsx openpyxl can read, or locked by another program."""


def _find(sheetnames: Sequence[str], name: str) -> str | None:
    """The sheet called `name`, matched exactly first, then ignoring case as Excel does."""
    if name in sheetnames:
        return name
    folded = name.casefold()
    return next((s for s in sheetnames if s.casefold() == folded), None)


def _as_text(value: object) -> str:
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


def _typed(value: object) -> str:
    """A cell as text; a cell the file holds as anything but text keeps what it holds (`TypedCell`)."""
    if isinstance(value, UnsavedFormula):
        return TypedCell(str(value), value)
    if isinstance(value, str):
        return value
    return TypedCell(_as_text(value), value)


def _filled_cells(sheet: object) -> dict[tuple[int, int], object]:
    """Every non-empty cell of a sheet by (row, column); read-only sheets may skip rows and cells."""
    found: dict[tuple[int, int], object] = {}
    for row in sheet.iter_rows():  # type: ignore[attr-defined]
        for cell in row:
            value = cell.value
            if value is None or value == "":
                continue
            found[(cell.row, cell.column)] = value
    return found


def _grid(found: Mapping[tuple[int, int], object], render: Callable[[object], object]) -> list[list[object]]:
    """A rectangular grid up to the last filled row and column."""
    if not found:
        return []
    height = max(r for r, _ in found)
    width = max(c for _, c in found)
    grid: list[list[object]] = [[""] * width for _ in range(height)]
    for (r, c), value in found.items():
        grid[r - 1][c - 1] = render(value)
    return grid


def _storable(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]


def _put(sheet: Worksheet, row: int, column: int, value: Cell, *, as_text: bool = False) -> None:
    """Write one cell; text is always stored as text, so `=…` never becomes a formula (and with `as_text` the
    cell is text-formatted, as organiser columns are)."""
    if isinstance(value, str):
        text = _storable(value)
        if not text:
            return
        cell = sheet.cell(row=row, column=column)
        cell.value = text
        cell.data_type = "s"
        if as_text:
            cell.number_format = TEXT_FORMAT
    else:
        sheet.cell(row=row, column=column).value = value


def _set_widths(sheet: Worksheet, rows: Sequence[Sequence[object]], minimum: int = 8, maximum: int = 50) -> None:
    widths: dict[int, int] = {}
    for row in rows[:200]:
        for c, value in enumerate(row, start=1):
            widths[c] = max(widths.get(c, 0), len(str(value)))
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, minimum), maximum)


def _clear(sheet: Worksheet) -> None:
    """Empty a sheet in place (its position, name and any link to it stay)."""
    for merged in list(sheet.merged_cells.ranges):
        sheet.unmerge_cells(str(merged))
    if sheet.max_row:
        sheet.delete_rows(1, sheet.max_row)
    sheet.row_dimensions.clear()


def _write_organiser_tab(sheet: Worksheet, tab: OrganiserTab, seed: Grid | None) -> None:
    rows = list(seed or [])
    if rows and [c.strip() for c in rows[0]] == tab.header:
        rows = rows[1:]
    for c, column in enumerate(tab.columns, start=1):
        cell = sheet.cell(row=1, column=c)
        cell.value = _storable(column.name)
        cell.data_type = "s"
        cell.font = HEADER_FONT
        cell.comment = Comment(column.meaning, "tdz", width=300, height=80)
        sheet.column_dimensions[get_column_letter(c)].number_format = TEXT_FORMAT  # cells typed later stay text
    for r, row in enumerate(rows, start=2):
        for c, text in enumerate(row, start=1):
            _put(sheet, r, c, str(text), as_text=True)
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
    _set_widths(sheet, [tab.header, *rows], minimum=14, maximum=40)


def _write_output_header(sheet: Worksheet, grid: Sequence[Sequence[Cell]]) -> None:
    """The header row in bold, frozen, and column widths fitted to the first rows; the data rows are added to the
    saved file by `xlsx_parts.with_rows`."""
    for c, value in enumerate(grid[0] if grid else (), start=1):
        _put(sheet, 1, c, value)
        sheet.cell(row=1, column=c).font = HEADER_FONT
    sheet.freeze_panes = "A2"
    _set_widths(sheet, grid)


class XlsxWorkbook:
    """A workbook in one local `.xlsx` file; the file and its folders are created on the first write.

    Every write loads the file, changes it and saves it whole, holding a lock file beside it (`.<name>.lock`), so
    two runs (discovery adding rows, a publish) never save over each other's change."""

    def __init__(self, path: Path, lock_timeout_seconds: float = 1800.0) -> None:
        self.path = Path(path)
        self.calls = WorkbookCalls()
        self.lock_timeout_seconds = lock_timeout_seconds

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with holding(self.path.with_name(f".{self.path.name}.lock"), f"writing {self.path}", self.lock_timeout_seconds):
            yield

    @property
    def location(self) -> str:
        return str(self.path)

    def links(self, output_tabs: Iterable[str]) -> dict[str, str]:
        return {"workbook": self.path.resolve().as_uri()}

    def __repr__(self) -> str:
        return f"XlsxWorkbook({str(self.path)!r})"

    def _load(self, *, read_only: bool, data_only: bool = False, emptied: Sequence[str] = ()) -> Book:
        """The workbook; the sheets named in `emptied` load empty (output tabs about to be rewritten)."""
        self.calls.reads += 1
        try:
            source: Path | io.BytesIO = self.path
            if emptied:
                source = io.BytesIO(without_sheets(self.path.read_bytes(), emptied))
            return openpyxl.load_workbook(source, read_only=read_only, data_only=data_only)
        except (InvalidFileException, BadZipFile, KeyError) as exc:
            raise XlsxFileError(f"{self.path}: not a workbook tdz can read as .xlsx ({exc})") from None

    @contextmanager
    def _reading(self, *, data_only: bool) -> Iterator[Book]:
        book = self._load(read_only=True, data_only=data_only)
        try:
            yield book
        finally:
            book.close()

    def _load_or_new(self, emptied: Sequence[str] = ()) -> Book:
        if self.path.exists():
            return self._load(read_only=False, emptied=emptied)
        book = openpyxl.Workbook()
        book.remove(book.active)
        return book

    def _sheetnames(self) -> list[str]:
        if not self.path.exists():
            return []
        with self._reading(data_only=False) as book:
            return list(book.sheetnames)

    def _save(self, book: Book, rows: Mapping[str, tuple[str, int, int]] | None = None) -> None:
        """Save beside the workbook, then rename over it (`atomic_write`): readers see the old or the new file.
        `rows` are output tabs' data rows as sheet XML (`xlsx_parts.with_rows`). Formulas in the organiser's tabs
        keep the values Excel last computed (openpyxl saves a formula without its value)."""
        self.calls.writes += 1
        cached = self._formula_values(book, skip=rows or {})
        buffer = io.BytesIO()
        book.save(buffer)
        data = with_rows(buffer.getvalue(), rows) if rows else buffer.getvalue()
        if cached:
            data = with_cached_values(data, cached)
        try:
            atomic_write(self.path, data)
        except PermissionError as exc:
            raise XlsxFileError(f"{self.path}: cannot replace the file; is it open in Excel? ({exc})") from None

    def _formula_values(self, book: Book, skip: Iterable[str]) -> dict[str, dict[str, tuple[object, str]]]:
        """Sheet → cell → (value, type) the file on disk holds for each formula of `book` outside `skip`."""
        skipped = {n.casefold() for n in skip}
        formulas = {sheet.title: {cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"}
                    for sheet in book.worksheets if sheet.title.casefold() not in skipped}
        formulas = {title: cells for title, cells in formulas.items() if cells}
        if not formulas or not self.path.exists():
            return {}
        values: dict[str, dict[str, tuple[object, str]]] = {}
        with self._reading(data_only=True) as saved:
            for title, cells in formulas.items():
                if title not in saved.sheetnames:
                    continue
                found = {c.coordinate: (c.value, c.data_type) for row in saved[title].iter_rows() for c in row
                         if getattr(c, "coordinate", None) in cells and c.value is not None}
                if found:
                    values[title] = found
        return values

    def ensure_organiser_tabs(
        self, tabs: Sequence[OrganiserTab], seed: Mapping[str, Grid] | None = None
    ) -> list[str]:
        """Create the organiser tabs that are missing (header, then `seed` rows); return the names created.

        A `seed` grid may start with the tab's header row or not. New tabs go after the organiser tabs already
        there (before any output tab); an existing tab is never rewritten or restyled.
        """
        with self._writing():
            return self._add_organiser_tabs(tabs, seed)

    def _add_organiser_tabs(self, tabs: Sequence[OrganiserTab], seed: Mapping[str, Grid] | None) -> list[str]:
        names = self._sheetnames()
        missing = [t for t in tabs if _find(names, t.name) is None]
        if not missing:
            return []
        book = self._load_or_new()
        organiser = {t.casefold() for t in ORGANISER_TABS} | {t.name.casefold() for t in tabs}
        position = max((i + 1 for i, n in enumerate(book.sheetnames) if n.casefold() in organiser), default=0)
        active = book.active if book.sheetnames else None
        for tab in missing:
            sheet = book.create_sheet(tab.name, position)
            position += 1
            _write_organiser_tab(sheet, tab, (seed or {}).get(tab.name))
        if active is not None:
            book.active = active  # inserting before it shifted the index; Excel would open two tabs grouped
        self._save(book)
        return [t.name for t in missing]

    def append_organiser_rows(self, tab: OrganiserTab, rows: Sequence[Sequence[str]]) -> None:
        """Rows as text below the tab's last filled row, saved atomically; nothing when there are none."""
        if not rows:
            return
        with self._writing():
            self._add_organiser_tabs([tab], None)
            self._append(tab, rows)

    def _append(self, tab: OrganiserTab, rows: Sequence[Sequence[str]]) -> None:
        book = self._load_or_new()
        name = _find(book.sheetnames, tab.name)
        assert name is not None
        sheet = book[name]
        last = max((r for (r, _c) in _filled_cells(sheet)), default=1)
        for offset, row in enumerate(rows, start=1):
            for column, value in enumerate(row, start=1):
                _put(sheet, last + offset, column, str(value))
        self._save(book)

    def read_organiser_tabs(self, tabs: Sequence[OrganiserTab]) -> dict[str, Grid]:
        """Every organiser tab as a rectangular text grid; a missing or empty tab reads as just its header.

        Values are what the organiser sees (a formula gives the value Excel last computed). A cell the file holds
        as a number, date, time or duration comes as a `TypedCell` (its text, and the value stored), and a formula
        whose value the file does not hold as a `TypedCell` of an `UnsavedFormula`, so the tabs' reader can tell
        what was meant or say why not. The file is not modified.
        """
        out: dict[str, Grid] = {t.name: [list(t.header)] for t in tabs}
        if not self.path.exists():
            return out
        values = self._filled(tabs, data_only=True)
        formulas = self._filled(tabs, data_only=False)
        for tab in tabs:
            found = dict(values.get(tab.name, {}))
            for key, formula in formulas.get(tab.name, {}).items():
                if key not in found and isinstance(formula, str) and formula.startswith("="):
                    found[key] = UnsavedFormula(formula)
            grid = _grid(found, _typed)
            if grid:
                out[tab.name] = [[v if isinstance(v, str) else str(v) for v in row] for row in grid]
        return out

    def _filled(self, tabs: Sequence[OrganiserTab], *, data_only: bool) -> dict[str, dict[tuple[int, int], object]]:
        filled: dict[str, dict[tuple[int, int], object]] = {}
        with self._reading(data_only=data_only) as book:
            for tab in tabs:
                found = _find(book.sheetnames, tab.name)
                sheet = book[found] if found else None
                if sheet is None or not hasattr(sheet, "iter_rows"):
                    continue
                sheet.reset_dimensions()
                filled[tab.name] = _filled_cells(sheet)
        return filled

    def _holds(self, digest: str, names: Sequence[str]) -> bool:
        """The file already holds this publish: its `about` tab carries `digest` and every tab exists."""
        with self._reading(data_only=False) as book:
            if any(_find(book.sheetnames, n) is None for n in names):
                return False
            about = _find(book.sheetnames, "about")
            if about is None:
                return False
            for row in book[about].iter_rows(max_col=2, values_only=True):
                if row and row[0] == CONTENT_HASH_KEY:
                    return len(row) > 1 and row[1] == digest
        return False

    def publish(self, tables: Mapping[str, pd.DataFrame], progress: PublishProgress | None = None) -> PublishReport:
        """Replace each named output tab whole with its frame, in one atomic save; skip when nothing changed.

        The skip needs an `about` table among `tables` (it carries the content hash). Existing tabs keep their
        position and name (matched ignoring case); new ones are appended at the end.
        """
        report = PublishReport(location=str(self.path))
        if not tables:
            return report
        refuse_clashes(tables)
        with self._writing():
            return self._publish(tables, progress, report)

    def _publish(self, tables: Mapping[str, pd.DataFrame], progress: PublishProgress | None,
                 report: PublishReport) -> PublishReport:
        digest, names = content_hash(tables), list(tables)
        if self.path.exists() and "about" in tables:
            report.read_calls += 1
            if self._holds(digest, names):
                report.tabs_unchanged = names
                return report
        tab_grids, _ = publish_grids(tables, digest)
        if self.path.exists():
            report.read_calls += 1
        book = self._load_or_new(emptied=names)
        rows: dict[str, tuple[str, int, int]] = {}
        for done, (name, grid) in enumerate(tab_grids.items()):
            if progress is not None:
                progress(done, len(tab_grids) + 1)
            found = _find(book.sheetnames, name)
            if found is None:
                sheet = book.create_sheet(name)
            else:
                sheet = book[found]
                if not isinstance(sheet, Worksheet):
                    raise TabNameClash(f"{self.path}: tab {found!r} is a chart sheet, not a table")
                _clear(sheet)
            _write_output_header(sheet, grid)
            rows[sheet.title] = (rows_xml(grid[1:], first_row=2), len(grid), max(map(len, grid), default=0))
        if progress is not None:
            progress(len(tab_grids), len(tab_grids) + 1)
        self._save(book, rows)
        if progress is not None:
            progress(len(tab_grids) + 1, len(tab_grids) + 1)
        report.write_calls = 1
        report.tabs_written = names
        return report

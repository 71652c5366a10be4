"""The local `.xlsx` workbook: organiser tabs read and output tabs published in one file, with openpyxl.

The file is what an organiser opens in Excel or LibreOffice, so every write keeps their work: organiser tabs and
any tab tdz does not publish are loaded and saved back untouched (values, formulas, styles, comments, data
validation survive; charts and pivot tables do not, as openpyxl cannot keep them). A publish is one atomic
save (temp file in the same folder, then rename), so a crash never leaves a half-written workbook, and a publish
whose content hash equals the one already in the `about` tab does not touch the file at all.

Sheet names ignore case in Excel (and openpyxl renames a clashing new sheet `Riders` to `Riders1`), so tabs are
found case-insensitively, and an output tab whose name matches an organiser tab is refused rather than written
over the organiser's rows. Output tabs are tdz's own: a publish loads them empty and writes their rows as sheet XML
(`xlsx_parts`), which keeps a publish of a big season to a second or two. How single cells are written and read
back is `xlsx_cells`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from zipfile import BadZipFile

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook as Book
from openpyxl.worksheet.worksheet import Worksheet

from tdz.errors import TdzError
from tdz.files import atomic_write, holding
from tdz.publish.tables import (
    ORGANISER_TABS,
    OUTPUT_TABLES,
    OrganiserTab,
    UnsavedFormula,
)
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
    content_hash,
    frame_to_grid,
    with_content_hash,
)
from tdz.publish.workbook.xlsx_cells import (
    clear_sheet,
    filled_cells,
    find_sheet,
    grid_of,
    put,
    typed_text,
    write_organiser_tab,
    write_output_header,
)
from tdz.publish.workbook.xlsx_parts import (
    frame_rows_xml,
    with_cached_values,
    with_rows,
    without_sheets,
)

WIDTH_ROWS = 200
"""Column widths fit the header and this many first rows."""


class XlsxFileError(TdzError, ValueError):
    """The workbook file cannot be used: not an .xlsx openpyxl can read, or locked by another program."""


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
        skipped = {n.casefold() for n in (*skip, *OUTPUT_TABLES)}  # tdz writes values there, never formulas
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
        missing = [t for t in tabs if find_sheet(names, t.name) is None]
        if not missing:
            return []
        book = self._load_or_new()
        organiser = {t.casefold() for t in ORGANISER_TABS} | {t.name.casefold() for t in tabs}
        position = max((i + 1 for i, n in enumerate(book.sheetnames) if n.casefold() in organiser), default=0)
        active = book.active if book.sheetnames else None
        for tab in missing:
            sheet = book.create_sheet(tab.name, position)
            position += 1
            write_organiser_tab(sheet, tab, (seed or {}).get(tab.name))
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
        name = find_sheet(book.sheetnames, tab.name)
        assert name is not None
        sheet = book[name]
        last = max((r for (r, _c) in filled_cells(sheet)), default=1)
        for offset, row in enumerate(rows, start=1):
            for column, value in enumerate(row, start=1):
                put(sheet, last + offset, column, str(value))
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
            grid = grid_of(found, typed_text)
            if grid:
                out[tab.name] = [[v if isinstance(v, str) else str(v) for v in row] for row in grid]
        return out

    def _filled(self, tabs: Sequence[OrganiserTab], *, data_only: bool) -> dict[str, dict[tuple[int, int], object]]:
        filled: dict[str, dict[tuple[int, int], object]] = {}
        with self._reading(data_only=data_only) as book:
            for tab in tabs:
                found = find_sheet(book.sheetnames, tab.name)
                sheet = book[found] if found else None
                if sheet is None or not hasattr(sheet, "iter_rows"):
                    continue
                sheet.reset_dimensions()
                filled[tab.name] = filled_cells(sheet)
        return filled

    def _holds(self, digest: str, names: Sequence[str]) -> bool:
        """The file already holds this publish: its `about` tab carries `digest` and every tab exists."""
        with self._reading(data_only=False) as book:
            if any(find_sheet(book.sheetnames, n) is None for n in names):
                return False
            about = find_sheet(book.sheetnames, "about")
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
        frames = with_content_hash(tables, digest)
        if self.path.exists():
            report.read_calls += 1
        book = self._load_or_new(emptied=names)
        rows: dict[str, tuple[str, int, int]] = {}
        for done, (name, frame) in enumerate(frames.items()):
            if progress is not None:
                progress(done, len(frames) + 1)
            found = find_sheet(book.sheetnames, name)
            if found is None:
                sheet = book.create_sheet(name)
            else:
                sheet = book[found]
                if not isinstance(sheet, Worksheet):
                    raise TabNameClash(f"{self.path}: tab {found!r} is a chart sheet, not a table")
                clear_sheet(sheet)
            write_output_header(sheet, frame_to_grid(frame.head(WIDTH_ROWS)))  # header, and widths to fit
            rows[sheet.title] = (frame_rows_xml(frame, first_row=2), len(frame) + 1, frame.shape[1])
        if progress is not None:
            progress(len(frames), len(frames) + 1)
        self._save(book, rows)
        if progress is not None:
            progress(len(frames) + 1, len(frames) + 1)
        report.write_calls = 1
        report.tabs_written = names
        return report

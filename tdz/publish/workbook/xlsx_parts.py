"""The `.xlsx` file as the zip of XML parts it is, for the one job openpyxl is slow at: big output tabs.

openpyxl builds a Python object per cell, both to load a workbook and to save one: a CTT season's 400,000 output
cells cost it about 15 s. But tdz owns its output tabs and rewrites them whole, so it never needs to load their
cells, and it can write their rows as sheet XML directly:

- `without_sheets` gives openpyxl a copy of the file whose named sheets are empty, so loading costs only what the
  organiser tabs hold (their values, styles, comments and validation are loaded and saved by openpyxl as before);
- `with_rows` puts the data rows of each output tab into the file openpyxl saved (header, frozen pane and column
  widths written by openpyxl), as inline-string and number cells that carry no style, shared string or formula.

Only the `worksheets/sheetN.xml` parts of output tabs are touched; everything else is openpyxl's.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from posixpath import dirname, join, normpath
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from tdz.publish.workbook.cells import Cell

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
EMPTY_SHEET = f'<worksheet xmlns="{MAIN_NS}"><sheetData/></worksheet>'.encode()
MAX_CELL_CHARS = 32_767
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')


def sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the zip member holding its XML, from `xl/workbook.xml` and its relationships."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{PKG_REL_NS}}}Relationship")}
    parts: dict[str, str] = {}
    for sheet in workbook.iter(f"{{{MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{REL_NS}}}id"), "")
        if target:
            parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else normpath(
                join(dirname("xl/workbook.xml"), target))
    return parts


def _rewritten(data: bytes, replace: Mapping[str, bytes | Callable[[bytes], bytes]]) -> bytes:
    """The zip with the named members' bytes replaced (a callable gets the old bytes); fast deflate, as the
    output tabs are big and rewritten often."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                       compresslevel=1) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename in replace:
                new = replace[info.filename]
                body = new(body) if callable(new) else new
            target.writestr(info.filename, body)
    return out.getvalue()


def without_sheets(data: bytes, names: Iterable[str]) -> bytes:
    """The workbook with the sheets called `names` (ignoring case, as Excel does) emptied."""
    folded = {n.casefold() for n in names}
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        parts = sheet_parts(book)
    return _rewritten(data, {part: EMPTY_SHEET for name, part in parts.items() if name.casefold() in folded})


def _number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def rows_xml(rows: Sequence[Sequence[Cell]], first_row: int) -> str:
    """Sheet XML for `rows` starting at row `first_row`: numbers, booleans and inline strings ('' = no cell).
    Text is stored as text (never a formula), cut to Excel's 32,767 characters, without XML-illegal characters."""
    width = max((len(r) for r in rows), default=0)
    letters = [get_column_letter(c + 1) for c in range(width)]
    out: list[str] = []
    for number, row in enumerate(rows, start=first_row):
        cells: list[str] = []
        for letter, value in zip(letters, row):
            if isinstance(value, bool):
                cells.append(f'<c r="{letter}{number}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{letter}{number}"><v>{_number(value)}</v></c>')
            elif value != "":
                text = escape(ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_CELL_CHARS])
                space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
                cells.append(f'<c r="{letter}{number}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
        out.append(f'<row r="{number}">{"".join(cells)}</row>')
    return "".join(out)


_FORMULA_CELL = re.compile(r'<c r="([A-Z]{1,3}[0-9]{1,7})"((?: (?!t=)[a-zA-Z:]+="[^"]*")*)>(<f\b[^>]*?(?:/>|>.*?</f>))'
                           r'<v(?:\s*/>|></v>)</c>', re.S)


def _cached(value: object, data_type: str) -> tuple[str, str]:
    """A formula's computed value as the `t` attribute and `<v>` text of its cell."""
    if data_type == "e":
        return ' t="e"', escape(str(value))
    if isinstance(value, bool):
        return ' t="b"', str(int(value))
    if isinstance(value, int | float):
        return "", _number(value)
    if isinstance(value, datetime | date | time | timedelta):
        return "", _number(to_excel(value))
    return ' t="str"', escape(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def with_cached_values(data: bytes, values: Mapping[str, Mapping[str, tuple[object, str]]]) -> bytes:
    """The saved workbook with formulas' computed values put back: `values` maps a sheet name to cell → (value,
    openpyxl data type). openpyxl writes a formula with an empty `<v>`; Excel and LibreOffice would show the
    value again once they recompute, but a program reading the file (tdz itself, on its next run) would see
    none."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        parts = sheet_parts(book)

    def patch(xml: bytes, cells: Mapping[str, tuple[object, str]]) -> bytes:
        def one(match: re.Match[str]) -> str:
            if match[1] not in cells:
                return match[0]
            kind, text = _cached(*cells[match[1]])
            return f'<c r="{match[1]}"{match[2]}{kind}>{match[3]}<v>{text}</v></c>'

        return _FORMULA_CELL.sub(one, xml.decode()).encode()

    replace = {parts[name]: (lambda xml, c=cells: patch(xml, c)) for name, cells in values.items() if name in parts}
    return _rewritten(data, replace)


def with_rows(data: bytes, bodies: Mapping[str, tuple[str, int, int]]) -> bytes:
    """The saved workbook with each named sheet's data rows added after the rows openpyxl wrote: `bodies` maps a
    sheet name to (rows XML, last row, last column)."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        parts = sheet_parts(book)

    def splice(xml: bytes, body: str, last_row: int, last_column: int) -> bytes:
        end = xml.rindex(b"</sheetData>") if b"</sheetData>" in xml else -1
        encoded = body.encode()
        if end < 0:  # openpyxl writes <sheetData/> for a sheet with no rows
            xml = xml.replace(b"<sheetData/>", b"<sheetData></sheetData>", 1)
            end = xml.rindex(b"</sheetData>")
        xml = xml[:end] + encoded + xml[end:]
        ref = f'<dimension ref="A1:{get_column_letter(max(last_column, 1))}{max(last_row, 1)}"/>'.encode()
        return _DIMENSION.sub(lambda _: ref, xml, count=1)

    replace = {parts[name]: (lambda xml, b=body: splice(xml, *b)) for name, body in bodies.items()}
    return _rewritten(data, replace)

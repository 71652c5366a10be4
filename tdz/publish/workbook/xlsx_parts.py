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
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from posixpath import dirname, join, normpath
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

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


def _column_cells(series: pd.Series, letter: str, numbers: np.ndarray) -> np.ndarray:
    """One column's cells as sheet XML, one string per row ('' = no cell), decided once for the whole column as
    `cells` decides each cell (numbers stay numbers, whole floats as integers, datetimes as ISO-8601 UTC text,
    missing and non-finite values as no cell); text is stored as text (never a formula), cut to Excel's 32,767
    characters, without XML-illegal characters."""
    refs = np.char.add(letter, numbers)
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        values = series.astype("boolean")
        out = np.where(values.fillna(False).to_numpy(bool), "1", "0").astype(object)
        cells = ['<c r="' + r + '" t="b"><v>' + v + "</v></c>" for r, v in zip(refs, out, strict=True)]
        return np.where(values.isna().to_numpy(), "", np.array(cells, dtype=object))
    if pd.api.types.is_integer_dtype(dtype):
        text = series.astype("Int64").astype("string").fillna("").to_numpy(dtype=object)
        return np.array(['<c r="' + r + '"><v>' + v + "</v></c>" if v else "" for r, v in zip(refs, text, strict=True)],
                        dtype=object)
    if pd.api.types.is_numeric_dtype(dtype):
        floats = series.astype("float64").to_numpy()
        finite = np.isfinite(floats)
        whole = finite & (np.floor(floats) == floats) & (np.abs(floats) < 2**53)
        text = np.full(len(floats), "", dtype=object)
        text[whole] = floats[whole].astype(np.int64).astype(str)
        rest = finite & ~whole
        text[rest] = [_number(float(v)) for v in floats[rest]]
        return np.array(['<c r="' + r + '"><v>' + v + "</v></c>" if v else "" for r, v in zip(refs, text, strict=True)],
                        dtype=object)
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.to_datetime(series, utc=True)
        values = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        values = series.astype(object).where(series.notna(), None)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    distinct = {v: _text_cell(v) for v in pd.unique(values.to_numpy(dtype=object))}
    inner = [distinct[v] for v in values.to_numpy(dtype=object)]
    return np.array(['<c r="' + r + '" t="inlineStr"><is>' + t + "</is></c>" if t else ""
                     for r, t in zip(refs, inner, strict=True)], dtype=object)


def _text_cell(value: object) -> str:
    """The `<t>` element of a text cell ('' for a missing value or empty text)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    text = escape(ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_CELL_CHARS])
    if not text:
        return ""
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<t{space}>{text}</t>"


def frame_rows_xml(frame: pd.DataFrame, first_row: int) -> str:
    """Sheet XML for a frame's rows from row `first_row`, built a column at a time: no Python value per cell."""
    if frame.empty:
        return ""
    numbers = np.arange(first_row, first_row + len(frame)).astype(str)
    columns = [_column_cells(frame.iloc[:, c], get_column_letter(c + 1), numbers) for c in range(frame.shape[1])]
    return "".join('<row r="' + n + '">' + "".join(cells) + "</row>" for n, *cells in zip(numbers, *columns,
                                                                                          strict=True))


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

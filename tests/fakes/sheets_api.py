"""A fake Google Sheets API v4 and OAuth token endpoint on 127.0.0.1, for driving the real gspread client.

It keeps spreadsheets in memory the way the API models them (sheets with a gid, a grid size, frozen rows,
cells with a typed value, a note and a number format, data validation, protected ranges), answers with
Google-shaped JSON and error bodies, applies a `spreadsheets.batchUpdate` atomically (all requests or none),
logs every request and can be told to fail the next calls of a kind.

Service-account keys are real RSA keys: `/token` checks the JWT assertion's signature against the public key
registered for its issuer, so a revoked or foreign key is refused as Google refuses it.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

Value = str | float | bool
SHEET_ROUTE = re.compile(r"^/v4/spreadsheets/([^/:]+)(:batchUpdate|/values:batchGet|/values:batchUpdate|/values/(.+))?$")
A1_CELL = re.compile(r"^([A-Z]*)(\d*)$")


class ApiError(Exception):
    STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.STATUS.get(self.code, "UNKNOWN")}}


@dataclass
class Entry:
    """One request as the fake saw it."""

    method: str
    kind: str  # token, get, values.get, values.batchGet, values.batchUpdate, values.update, batchUpdate
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 200
    size: int = 0
    """Bytes of the request body as sent."""


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    frozen: int = 0
    hidden: bool = False
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    validation: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    protected: list[dict[str, Any]] = field(default_factory=list)

    def properties(self, index: int) -> dict[str, Any]:
        grid = {"rowCount": self.rows, "columnCount": self.cols}
        if self.frozen:
            grid["frozenRowCount"] = self.frozen
        properties = {"sheetId": self.sheet_id, "title": self.title, "index": index, "sheetType": "GRID",
                      "gridProperties": grid}
        if self.hidden:
            properties["hidden"] = True
        return properties

    def crop(self) -> None:
        for store in (self.cells, self.validation):
            for key in [k for k in store if k[0] >= self.rows or k[1] >= self.cols]:
                del store[key]


@dataclass
class Spreadsheet:
    id: str
    title: str
    sheets: list[Sheet]
    editors: set[str]
    viewers: set[str]
    next_protection: int = 1
    cell_limit: int = 10_000_000

    def check_size(self) -> None:
        if sum(s.rows * s.cols for s in self.sheets) > self.cell_limit:
            raise ApiError(400, "This action would increase the number of cells in the workbook above the limit "
                                f"of {self.cell_limit} cells.")

    def find(self, title: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise ApiError(400, f"Unable to parse range: {title}")

    def by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise ApiError(400, f"No grid with id: {sheet_id}")


def b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def formatted(cell: dict[str, Any] | None) -> str:
    """A cell as FORMATTED_VALUE shows it (the fake does not evaluate formulas)."""
    if not cell or ("v" not in cell and "f" not in cell):
        return ""
    if "f" in cell:
        return "#NAME?"
    value = cell["v"]
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    return value


def parse_range(a1: str) -> tuple[str, int, int | None, int, int | None]:
    """`'My tab'!A2:C` → (title, first row, end row or None, first column, end column or None), 0-based, end-exclusive."""
    title, _, cells = a1.partition("!")
    if title.startswith("'") and title.endswith("'"):
        title = title[1:-1].replace("''", "'")
    if not cells:
        return title, 0, None, 0, None
    start, _, end = cells.partition(":")
    col_of = lambda letters: sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(letters))) - 1  # noqa: E731
    m1, m2 = A1_CELL.match(start.upper()), A1_CELL.match((end or start).upper())
    if not m1 or not m2:
        raise ApiError(400, f"Unable to parse range: {a1}")
    r0 = int(m1[2]) - 1 if m1[2] else 0
    c0 = col_of(m1[1]) if m1[1] else 0
    r1 = int(m2[2]) if m2[2] else None
    c1 = col_of(m2[1]) + 1 if m2[1] else None
    return title, r0, r1, c0, c1


class FakeSheetsAPI:
    """Start with `with FakeSheetsAPI() as api:`; point gspread at `api.url`, and keys' token_uri at `api.token_uri`."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.public_keys: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        self.log: list[Entry] = []
        self.faults: list[list[Any]] = []  # [kind, status, remaining, to let through first]
        self.delays: list[list[Any]] = []  # [kind, seconds, remaining]: applied, then answered late
        self.payload_limit = 10_485_760
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSheetsAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    # --- set-up and inspection, as a person or a test would -------------------------------------------------

    def new_key(self, email: str) -> dict[str, str]:
        """A fresh service-account key for `email` (replacing any earlier key, which stops working)."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_keys[email] = private.public_key()
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "fake", "private_key_id": "k1", "private_key": pem,
                "client_email": email, "client_id": "1", "token_uri": self.token_uri}

    def create_spreadsheet(self, spreadsheet_id: str, title: str = "Club series", *, editors: tuple[str, ...] = (),
                           viewers: tuple[str, ...] = ()) -> Spreadsheet:
        with self.lock:
            book = Spreadsheet(spreadsheet_id, title, [Sheet(0, "Sheet1")], set(editors), set(viewers))
            self.spreadsheets[spreadsheet_id] = book
            return book

    def sheet(self, spreadsheet_id: str, title: str) -> Sheet:
        return self.spreadsheets[spreadsheet_id].find(title)

    def values(self, spreadsheet_id: str, title: str) -> list[list[Value | None]]:
        """The tab's stored values (typed), trailing empty rows and columns left out."""
        with self.lock:
            sheet = self.sheet(spreadsheet_id, title)
            filled = [k for k, c in sheet.cells.items() if "v" in c or "f" in c]
            if not filled:
                return []
            rows, cols = max(r for r, _ in filled) + 1, max(c for _, c in filled) + 1
            value = lambda cell: cell.get("v", cell.get("f", ""))  # noqa: E731
            return [[value(sheet.cells.get((r, c), {})) for c in range(cols)] for r in range(rows)]

    def type_into(self, spreadsheet_id: str, title: str, row: int, col: int, text: str) -> None:
        """An organiser typing into a cell in the browser (not an API call): parsed unless the cell is plain text."""
        with self.lock:
            sheet = self.sheet(spreadsheet_id, title)
            self._put_entered(sheet, row, col, text)

    def fail(self, kind: str, status: int, times: int = 1, after: int = 0) -> None:
        """Answer `times` requests of `kind`, after the next `after` of them, with `status` and a Google-shaped
        error body."""
        with self.lock:
            self.faults.append([kind, status, times, after])

    def answer_late(self, kind: str, seconds: float, times: int = 1) -> None:
        """Apply the next `times` requests of `kind`, then wait `seconds` before answering: a client that gives
        up first cannot know whether its request took effect (a timeout after the write)."""
        with self.lock:
            self.delays.append([kind, seconds, times])

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.delays.clear()

    def calls(self, *kinds: str) -> list[Entry]:
        with self.lock:
            return [e for e in self.log if not kinds or e.kind in kinds]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    # --- the wire ---------------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = api._dispatch(method, parts.path, parse_qs(parts.query), raw,
                                             self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (answer_late)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

        return Handler

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                  authorization: str) -> tuple[int, Any]:
        kind, match = "unknown", SHEET_ROUTE.match(path)
        if path == "/token":
            kind = "token"
        elif match:
            suffix = match[2] or ""
            kind = {"": "get", ":batchUpdate": "batchUpdate", "/values:batchGet": "values.batchGet",
                    "/values:batchUpdate": "values.batchUpdate"}.get(suffix, "values.get" if method == "GET"
                                                                      else "values.update")
        body: Any = raw.decode() if kind == "token" else (json.loads(raw) if raw else None)
        entry = Entry(method, kind, path, query, body, size=len(raw))
        with self.lock:
            self.log.append(entry)
            try:
                result = self._route(kind, method, match, query, body, authorization)
                entry.status = 200
            except ApiError as err:
                entry.status = err.code
                if kind == "token":
                    return err.code, {"error": "invalid_grant", "error_description": err.message}
                return err.code, err.body()
            late = next((d for d in self.delays if d[0] == kind and d[2] > 0), None)
            if late is not None:
                late[2] -= 1
        if late is not None:
            time.sleep(late[1])
        return 200, result

    def _route(self, kind: str, method: str, match: re.Match[str] | None, query: dict[str, list[str]],
               body: Any, authorization: str) -> Any:
        if len(json.dumps(body or "").encode()) > self.payload_limit:
            raise ApiError(400, f"Request payload size exceeds the limit: {self.payload_limit} bytes.")
        for fault in self.faults:
            if fault[0] == kind and fault[2] > 0 and fault[3] > 0:
                fault[3] -= 1
                break
            if fault[0] == kind and fault[2] > 0:
                fault[2] -= 1
                message = {429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per "
                                 "minute per user' of service 'sheets.googleapis.com'."}.get(fault[1], "Internal error")
                raise ApiError(fault[1], message)
        if kind == "token":
            return self._token(parse_qs(body))
        if not match:
            raise ApiError(404, "Requested entity was not found.")
        email = self.tokens.get(authorization.removeprefix("Bearer ").strip())
        if email is None:
            raise ApiError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                "login cookie or other valid authentication credential.")
        book = self.spreadsheets.get(match[1])
        if book is None:
            raise ApiError(404, "Requested entity was not found.")
        writes = kind in ("batchUpdate", "values.batchUpdate", "values.update")
        if email not in book.editors and (writes or email not in book.viewers):
            raise ApiError(403, "The caller does not have permission")
        if kind == "get":
            return self._metadata(book)
        if kind == "values.get":
            return self._read(book, unquote(match[3]), query)
        if kind == "values.batchGet":
            return {"spreadsheetId": book.id,
                    "valueRanges": [self._read(book, r, query) for r in query.get("ranges", [])]}
        if kind in ("values.batchUpdate", "values.update"):
            data = body["data"] if kind == "values.batchUpdate" else [dict(body, range=unquote(match[3]))]
            entered = (body.get("valueInputOption") or query.get("valueInputOption", ["RAW"])[0]) == "USER_ENTERED"
            return self._write_values(book, data, entered)
        return self._batch_update(book, body.get("requests", []))

    def _token(self, form: dict[str, list[str]]) -> dict[str, Any]:
        head, payload, signature = form["assertion"][0].split(".")
        email = json.loads(b64url(payload)).get("iss", "")
        key = self.public_keys.get(email)
        if key is None:
            raise ApiError(400, "Invalid grant: account not found")
        try:
            key.verify(b64url(signature), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise ApiError(400, "Invalid JWT Signature.") from None
        token = f"ya29.fake-{len(self.tokens) + 1}"
        self.tokens[token] = email
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _metadata(self, book: Spreadsheet) -> dict[str, Any]:
        sheets = []
        for index, sheet in enumerate(book.sheets):
            entry: dict[str, Any] = {"properties": sheet.properties(index)}
            if sheet.protected:
                entry["protectedRanges"] = copy.deepcopy(sheet.protected)
            sheets.append(entry)
        return {"spreadsheetId": book.id, "properties": {"title": book.title, "locale": "en_GB"}, "sheets": sheets,
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.id}/edit"}

    def _read(self, book: Spreadsheet, a1: str, query: dict[str, list[str]]) -> dict[str, Any]:
        title, r0, r1, c0, c1 = parse_range(a1)
        sheet = book.find(title)
        r1, c1 = min(r1 or sheet.rows, sheet.rows), min(c1 or sheet.cols, sheet.cols)
        raw = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0] != "FORMATTED_VALUE"
        rows: list[list[Any]] = []
        for r in range(r0, r1):
            cells = [sheet.cells.get((r, c)) for c in range(c0, c1)]
            row = [(c or {}).get("v", "") if raw else formatted(c) for c in cells]
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
        while rows and not rows[-1]:
            rows.pop()
        quoted = "'" + sheet.title.replace("'", "''") + "'"
        result: dict[str, Any] = {"range": f"{quoted}!R{r0 + 1}C{c0 + 1}:R{r1}C{c1}", "majorDimension": "ROWS"}
        if rows:
            result["values"] = rows
        return result

    def _put_entered(self, sheet: Sheet, row: int, col: int, text: Any) -> None:
        cell = sheet.cells.setdefault((row, col), {})
        cell.pop("v", None)
        cell.pop("f", None)
        if not isinstance(text, str) or cell.get("numberFormat") == "TEXT":
            value: Any = text
        elif text.startswith("="):
            cell["f"] = text
            return
        elif text.upper() in ("TRUE", "FALSE"):
            value = text.upper() == "TRUE"
        else:
            try:
                value = float(text)
            except ValueError:
                value = text
        if value != "":
            cell["v"] = float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def _write_values(self, book: Spreadsheet, data: list[dict[str, Any]], entered: bool) -> dict[str, Any]:
        """Every range or none, like a batchUpdate; writing '' empties a cell. As in the real API, a write past
        the tab's grid is refused: the grid does not grow."""
        draft = copy.deepcopy(book)
        for block in data:
            title, r0, _, c0, _ = parse_range(block["range"])
            sheet = draft.find(title)
            values = block.get("values", [])
            width = max((len(r) for r in values), default=0)
            if r0 + len(values) > sheet.rows or c0 + width > sheet.cols:
                raise ApiError(400, f"Range ({block['range']}) exceeds grid limits. Max rows: {sheet.rows}, max "
                                    f"columns: {sheet.cols}")
            for i, row in enumerate(values):
                for j, value in enumerate(row):
                    if entered:
                        self._put_entered(sheet, r0 + i, c0 + j, value)
                    else:
                        cell = sheet.cells.setdefault((r0 + i, c0 + j), {})
                        cell.pop("f", None)
                        cell.pop("v", None)
                        if value != "" and value is not None:
                            cell["v"] = float(value) if isinstance(value, int) and not isinstance(value, bool) else value
        self.spreadsheets[book.id] = draft
        return {"spreadsheetId": book.id, "totalUpdatedCells": sum(len(r) for b in data for r in b.get("values", []))}

    def _batch_update(self, book: Spreadsheet, requests: list[dict[str, Any]]) -> dict[str, Any]:
        """All requests or none: applied to a copy that replaces the book only when every request succeeded."""
        draft = copy.deepcopy(book)
        replies = []
        for index, request in enumerate(requests):
            (name, spec), = request.items()
            handler = getattr(self, f"_req_{name}", None)
            if handler is None:
                raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{name}\" at 'requests[{index}]'")
            try:
                replies.append(handler(draft, spec) or {})
            except ApiError as err:
                raise ApiError(400, f"Invalid requests[{index}].{name}: {err.message}") from None
        self.spreadsheets[book.id] = draft
        return {"spreadsheetId": book.id, "replies": replies}

    @staticmethod
    def _req_addSheet(book: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        props = spec.get("properties", {})
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if any(s.title.casefold() == title.casefold() for s in book.sheets):
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        sheet_id = props.get("sheetId", max(s.sheet_id for s in book.sheets) + 1 if book.sheets else 0)
        if sheet_id < 0 or any(s.sheet_id == sheet_id for s in book.sheets):
            raise ApiError(400, f"Sheet with id {sheet_id} already exists.")
        grid = props.get("gridProperties", {})
        sheet = Sheet(sheet_id, title, grid.get("rowCount", 1000), grid.get("columnCount", 26),
                      grid.get("frozenRowCount", 0), bool(props.get("hidden", False)))
        book.sheets.insert(props.get("index", len(book.sheets)), sheet)
        book.check_size()
        return {"addSheet": {"properties": sheet.properties(book.sheets.index(sheet))}}

    @staticmethod
    def _req_updateSpreadsheetProperties(book: Spreadsheet, spec: dict[str, Any]) -> None:
        if spec.get("fields") != "title":
            raise ApiError(400, f"unsupported field mask {spec.get('fields')}")
        book.title = spec["properties"]["title"]

    @staticmethod
    def _req_updateSheetProperties(book: Spreadsheet, spec: dict[str, Any]) -> None:
        props, fields = spec["properties"], spec["fields"].split(",")
        sheet = book.by_id(props["sheetId"])
        grid = props.get("gridProperties", {})
        for name in (f.strip() for f in fields):
            if name == "title":
                sheet.title = props["title"]
            elif name == "hidden":
                sheet.hidden = bool(props.get("hidden", False))
            elif name in ("gridProperties.rowCount", "gridProperties.columnCount", "gridProperties.frozenRowCount"):
                key = name.split(".")[1]
                setattr(sheet, {"rowCount": "rows", "columnCount": "cols", "frozenRowCount": "frozen"}[key],
                        grid.get(key, 0))
            else:
                raise ApiError(400, f"unsupported field mask {name}")
        if sheet.rows < 1 or sheet.cols < 1:
            raise ApiError(400, "You can't delete all the rows or columns on the sheet.")
        if sheet.frozen >= sheet.rows:
            raise ApiError(400, "You can't freeze all visible rows on the sheet.")
        book.check_size()
        sheet.crop()

    @staticmethod
    def _grid_range(book: Spreadsheet, grid: dict[str, Any]) -> tuple[Sheet, int, int, int, int]:
        sheet = book.by_id(grid.get("sheetId", 0))
        r0, c0 = grid.get("startRowIndex", 0), grid.get("startColumnIndex", 0)
        r1, c1 = grid.get("endRowIndex", sheet.rows), grid.get("endColumnIndex", sheet.cols)
        if r1 > sheet.rows or c1 > sheet.cols:
            raise ApiError(400, f"Range ({sheet.title}!R{r0 + 1}C{c0 + 1}:R{r1}C{c1}) exceeds grid limits. "
                                f"Max rows: {sheet.rows}, max columns: {sheet.cols}")
        return sheet, r0, r1, c0, c1

    @staticmethod
    def _set_cell(sheet: Sheet, key: tuple[int, int], data: dict[str, Any], fields: list[str]) -> None:
        cell = sheet.cells.setdefault(key, {})
        for name in fields:
            if name == "userEnteredValue":
                cell.pop("v", None)
                cell.pop("f", None)
                entered = data.get("userEnteredValue", {})
                for wire, ours in (("stringValue", "v"), ("numberValue", "v"), ("boolValue", "v"),
                                   ("formulaValue", "f")):
                    if wire in entered:
                        cell[ours] = float(entered[wire]) if wire == "numberValue" else entered[wire]
            elif name == "note":
                cell.pop("note", None)
                if data.get("note"):
                    cell["note"] = data["note"]
            elif name == "userEnteredFormat.numberFormat":
                cell.pop("numberFormat", None)
                kind = data.get("userEnteredFormat", {}).get("numberFormat", {}).get("type")
                if kind:
                    cell["numberFormat"] = kind
            else:
                raise ApiError(400, f"unsupported field mask {name}")

    def _req_updateCells(self, book: Spreadsheet, spec: dict[str, Any]) -> None:
        fields = [f.strip() for f in spec["fields"].split(",")]
        rows = spec.get("rows", [])
        if "range" in spec:
            sheet, r0, r1, c0, c1 = self._grid_range(book, spec["range"])
        else:
            start = spec["start"]
            width = max((len(r.get("values", [])) for r in rows), default=0)
            sheet, r0, r1, c0, c1 = self._grid_range(book, {
                "sheetId": start.get("sheetId", 0), "startRowIndex": start.get("rowIndex", 0),
                "endRowIndex": start.get("rowIndex", 0) + len(rows), "startColumnIndex": start.get("columnIndex", 0),
                "endColumnIndex": start.get("columnIndex", 0) + width})
        for r in range(r0, r1):
            values = rows[r - r0].get("values", []) if r - r0 < len(rows) else []
            for c in range(c0, c1):
                if "range" in spec or c - c0 < len(values):
                    self._set_cell(sheet, (r, c), values[c - c0] if c - c0 < len(values) else {}, fields)

    def _req_appendCells(self, book: Spreadsheet, spec: dict[str, Any]) -> None:
        """Rows after the last row holding data, growing the grid as the real API does."""
        sheet = book.by_id(spec["sheetId"])
        filled = [r for (r, _), cell in sheet.cells.items() if "v" in cell or "f" in cell]
        start = max(filled, default=-1) + 1
        rows = spec.get("rows", [])
        sheet.rows = max(sheet.rows, start + len(rows))
        width = max((len(r.get("values", [])) for r in rows), default=0)
        sheet.cols = max(sheet.cols, width)
        self._req_updateCells(book, {"rows": rows, "fields": spec["fields"],
                                     "start": {"sheetId": sheet.sheet_id, "rowIndex": start, "columnIndex": 0}})

    @staticmethod
    def _req_deleteSheet(book: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet = book.by_id(spec["sheetId"])
        if len(book.sheets) == 1:
            raise ApiError(400, "You can't remove all the sheets in a document.")
        book.sheets.remove(sheet)

    def _req_copyPaste(self, book: Spreadsheet, spec: dict[str, Any]) -> None:
        """PASTE_VALUES or PASTE_NORMAL of a source range onto a destination of the same size (a blank source cell
        empties its destination); a destination past its tab's grid is refused."""
        paste = spec.get("pasteType", "PASTE_NORMAL")
        if paste not in ("PASTE_VALUES", "PASTE_NORMAL") or spec.get("pasteOrientation", "NORMAL") != "NORMAL":
            raise ApiError(400, f"unsupported paste {paste} {spec.get('pasteOrientation')}")
        source, r0, r1, c0, c1 = self._grid_range(book, spec["source"])
        target = dict(spec["destination"])
        dr0, dc0 = target.get("startRowIndex", 0), target.get("startColumnIndex", 0)
        target.update(endRowIndex=dr0 + r1 - r0, endColumnIndex=dc0 + c1 - c0)  # the whole source is pasted
        destination = self._grid_range(book, target)[0]
        copied = {(r - r0, c - c0): dict(cell) for (r, c), cell in source.cells.items() if r0 <= r < r1 and c0 <= c < c1}
        for r in range(r1 - r0):
            for c in range(c1 - c0):
                cell = destination.cells.setdefault((dr0 + r, dc0 + c), {})
                cell.pop("v", None)
                cell.pop("f", None)
                found = copied.get((r, c), {})
                if "v" in found:
                    cell["v"] = found["v"]
                if paste == "PASTE_NORMAL":
                    cell.pop("numberFormat", None)
                    if "numberFormat" in found:
                        cell["numberFormat"] = found["numberFormat"]
                    if "f" in found:
                        cell["f"] = found["f"]

    def _req_repeatCell(self, book: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, r0, r1, c0, c1 = self._grid_range(book, spec["range"])
        fields = [f.strip() for f in spec["fields"].split(",")]
        for r in range(r0, r1):
            for c in range(c0, c1):
                self._set_cell(sheet, (r, c), spec.get("cell", {}), fields)

    def _req_setDataValidation(self, book: Spreadsheet, spec: dict[str, Any]) -> None:
        sheet, r0, r1, c0, c1 = self._grid_range(book, spec["range"])
        for r in range(r0, r1):
            for c in range(c0, c1):
                if spec.get("rule"):
                    sheet.validation[(r, c)] = spec["rule"]
                else:
                    sheet.validation.pop((r, c), None)

    def _req_addProtectedRange(self, book: Spreadsheet, spec: dict[str, Any]) -> dict[str, Any]:
        protected = copy.deepcopy(spec["protectedRange"])
        sheet = self._grid_range(book, protected["range"])[0]
        protected["protectedRangeId"] = book.next_protection
        book.next_protection += 1
        sheet.protected.append(protected)
        return {"addProtectedRange": {"protectedRange": protected}}

"""Reading ZwiftPower's wire values: `[value, flag]` pairs, numbers as strings, HTML-escaped text, missing markers.

Each reader takes one raw JSON value and returns a clean Python value or None for "missing"; `number` raises
`NotANumber` for a value that is present but unreadable, so the caller can report it.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

from tdz.problems import Problem

ZP = "zwiftpower"
PENS = "ABCDE"
PENS_SET = frozenset(PENS)
MISSING_TEXT = frozenset({"", "-"})
WHOLE = re.compile(r"-?\d{1,19}", re.ASCII)
INT64_MAX = 2**63 - 1


class NotANumber(ValueError):
    """A value that is present but cannot be read as a non-negative finite number."""


def short(value: object, limit: int = 60) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def problem(event_id: int | None, row: int | None, column: str, value: object, why: str, source: str = ZP) -> Problem:
    return Problem(source=source, event_id=event_id, row=row, column=column, value=short(value), why=why)


def scalar(value: object) -> object:
    """The value of a `[value, flag]` pair, or the value itself when it is bare."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def number(value: object) -> float | None:
    """A non-negative finite number, or None for missing (absent, null, `""`, `"-"`, `0`, `[0, 0]`)."""
    v = scalar(value)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise NotANumber
    if isinstance(v, str) and v.strip() in MISSING_TEXT:
        return None
    try:
        number = float(v.strip() if isinstance(v, str) else v)
    except (ValueError, OverflowError):
        raise NotANumber from None
    if not math.isfinite(number) or number < 0:
        raise NotANumber
    return None if number == 0 else number


def whole(value: object) -> int | None:
    """A whole number that fits int64 (an int, an integral float or a digit string), else None."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and WHOLE.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= INT64_MAX:
        return value
    return None


def positive_id(value: object) -> int | None:
    """A Zwift id (a rider's `zwid`, an event's `id`: int or digit string), or None when there is no usable one."""
    number = whole(value)
    return number if number is not None and number > 0 else None


def text(value: object) -> str | None:
    """HTML-unescaped, stripped text, or None for missing (`""`, `"-"`, null, a non-text value)."""
    v = scalar(value)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str):
        return None
    cleaned = html.unescape(v).strip()
    return None if cleaned in MISSING_TEXT else cleaned


def pen(category: object, label: object) -> str | None:
    letter = text(category)
    if letter and letter.upper() in PENS_SET:
        return letter.upper()
    number = text(label)
    if number in {"1", "2", "3", "4", "5"}:
        return PENS[int(number) - 1]
    return None


def gender(male: object) -> str | None:
    v = scalar(male)
    if not isinstance(v, (int, str)):
        return None
    return {1: "M", "1": "M", 0: "F", "0": "F"}.get(v.strip() if isinstance(v, str) else v)


def loads(body: bytes | str | object) -> tuple[object, str | None]:
    """The JSON document of a body (bytes or text) or the object itself; a reason when it is not JSON."""
    if not isinstance(body, (bytes, bytearray, str)):
        return body, None
    try:
        return json.loads(body), None
    except UnicodeDecodeError:
        why = "not UTF-8 text"
    except json.JSONDecodeError as exc:
        why = f"{exc.msg} at char {exc.pos}"
    start = body[:40] if isinstance(body, str) else bytes(body[:40]).decode("utf-8", "replace")
    return None, f"not JSON ({why}); body starts {start.strip()!r}"


def data_rows(event_id: int | None, body: object, kind: str) -> tuple[list[Any] | None, list[Problem]]:
    """The rows of a `{"data": [...]}` payload, or None and the problem when the body is not one."""
    document, not_json = loads(body)
    if not_json:
        return None, [Problem(source=ZP, event_id=event_id, why=f"{kind}: {not_json}")]
    rows = document.get("data") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        why = f'{kind}: expected {{"data": [...]}}, got {type(document).__name__}'
        return None, [Problem(source=ZP, event_id=event_id, why=why, value=short(document))]
    return rows, []


def is_empty_results(body: object) -> bool:
    """Whether a body is a readable `{"data": []}`: ZwiftPower's answer with no rows (yet). An unreadable body is
    not "empty"; `data_rows` says what is wrong with it."""
    document, not_json = loads(body)
    return not_json is None and isinstance(document, dict) and document.get("data") == []

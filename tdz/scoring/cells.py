"""One organiser cell → the value it means, or a `ValueError` saying why it cannot be used.

Cells arrive as text; a cell the spreadsheet holds as a number, date, time or duration arrives as a `TypedCell`
(tdz creates organiser columns as text, but a tab made by hand or a pasted cell is not). Excel and LibreOffice
read a typed `41:23` as 41 hours 23 minutes, so a duration with no seconds is read the way stage times are
written, minutes:seconds, when only that reading is a sensible time for the column; when both readings are, the
cell is refused with both spelt out, never silently taken as hours. Every value is held to a bound that catches a
slip of the keyboard (a time of 0 or of 10^60 seconds).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from tdz.publish.tables import TypedCell
from tdz.season import MAX_HANDICAP_SECONDS, MAX_PENALTY_SECONDS

MAX_ID = 9_999_999_999
"""Zwift rider and event ids are positive and at most 10 digits (today 7 or 8)."""
MIN_TIME_SECONDS, MAX_TIME_SECONDS = 60, 12 * 3600
"""A manual result is a ride of 1 minute to 12 hours."""
MAX_PENALTY_S, MAX_HANDICAP_S = MAX_PENALTY_SECONDS, MAX_HANDICAP_SECONDS
TEXT_FIX = "format the column as text (Format → Cells → Text) and type it again"
_DURATION = re.compile(r"^(?:(?:([0-9]{1,4}):)?([0-9]{1,6}):)?([0-9]{1,9})(?:\.([0-9]+))?$")
_ID = re.compile(r"^[0-9]{1,10}$")
_ZID_IN_URL = re.compile(r"[?&]zid=([0-9]+)")
_DURATION_EPOCH = datetime(1899, 12, 31)  # openpyxl's date for Excel serial 1 (serials below 60, 1900 leap bug)


def clock(seconds: float) -> str:
    """Seconds as h:mm:ss, with milliseconds when there are any (for messages)."""
    if not math.isfinite(seconds) or abs(seconds) >= 10**9:
        return f"{seconds:g} s"
    sign, ms = ("-", round(-seconds * 1000)) if seconds < 0 else ("", round(seconds * 1000))
    whole, fraction = divmod(ms, 1000)
    text = f"{sign}{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return text + (f".{fraction:03d}".rstrip("0") if fraction else "")


def parse_duration(text: str) -> float:
    """Seconds from `m:ss`, `h:mm:ss` or plain seconds, to the millisecond ("41:23.5" → 2483.5).

    Counted in whole milliseconds, so a typed `20:32.053` is exactly ZwiftPower's 1232.053 (further decimals are
    rounded). Minutes may pass 59 when there are no hours (`75:00` is 1:15:00); ASCII digits only."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError("not a time: use m:ss, h:mm:ss or seconds, e.g. 41:23.5")
    hours, minutes, seconds, fraction = match.groups()
    if hours is not None and int(minutes) >= 60:
        raise ValueError("minutes must be below 60 in h:mm:ss")
    if minutes is not None and int(seconds) >= 60:
        raise ValueError("seconds must be below 60 in m:ss or h:mm:ss")
    fraction = fraction or ""
    ms = ((int(hours or 0) * 60 + int(minutes or 0)) * 60 + int(seconds)) * 1000 + int(fraction[:3].ljust(3, "0"))
    return (ms + (fraction[3:4] >= "5")) / 1000


def _stored_duration(cell: TypedCell, low: float, high: float) -> float:
    """The seconds a spreadsheet's number, time or duration cell stands for in a column of times."""
    value = cell.value
    if isinstance(value, bool):
        raise ValueError(f"not a time: the cell holds {value}")
    if isinstance(value, int | float):
        return round(float(value), 3)  # the column is in seconds
    if isinstance(value, datetime) and value < datetime(1900, 3, 1):
        value = value - _DURATION_EPOCH  # a duration of more than a day, stored with a time-of-day format
    elif isinstance(value, date):
        raise ValueError(f"the spreadsheet holds a date here ({value:%Y-%m-%d}), not a time: {TEXT_FIX}")
    if isinstance(value, time):
        value = timedelta(hours=value.hour, minutes=value.minute, seconds=value.second,
                          microseconds=value.microsecond)
    if not isinstance(value, timedelta):
        raise ValueError(f"not a time: {TEXT_FIX}")
    ms = round(value.total_seconds() * 1000)
    if ms % 60_000:
        return ms / 1000  # seconds were typed, so was the hour: h:mm:ss as stored
    # No seconds: "a:b" was typed and the spreadsheet took it for hours:minutes, as it does.
    hours, minutes = divmod(ms // 60_000, 60)
    as_typed, as_hours = (hours * 60 + minutes), ms / 1000
    fits = [s for s in (as_typed, as_hours) if low <= s <= high]
    if len(fits) == 2:
        raise ValueError(f"the spreadsheet turned this into {hours}:{minutes:02d} (hours:minutes): tdz cannot tell "
                         f"{hours} min {minutes} s from {hours} h {minutes} min; {TEXT_FIX} (or type "
                         f"0:{hours:02d}:{minutes:02d} for minutes)")
    return fits[0] if fits else as_typed


def duration(what: str, low: float, high: float) -> Callable[[str], float]:
    """A parser of one kind of time (`what`: "a manual time", "a penalty"…) held to [low, high] seconds."""

    def parse(text: str) -> float:
        seconds = _stored_duration(text, low, high) if isinstance(text, TypedCell) else parse_duration(text)
        if not low <= seconds <= high:
            hint = ""
            if seconds > high and seconds % 60 == 0 and low <= seconds / 60 <= high:
                hint = f"; did you mean {clock(seconds / 60).removeprefix('0:')} (minutes:seconds)?"
            raise ValueError(f"{what} is {clock(low)} to {clock(high)}; got {clock(seconds)}{hint}")
        return seconds

    return parse


def _whole_number(text: str, what: str) -> int:
    """A positive id of at most 10 ASCII digits, from text or a number cell."""
    if isinstance(text, TypedCell):
        value = text.value
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            number = int(value)
        else:
            raise ValueError(f"{what} is a whole number; the cell holds {text}: {TEXT_FIX}")
    else:
        value = text.strip()
        if not _ID.match(value):
            raise ValueError(f"{what} is a whole number of at most 10 digits (0-9)")
        number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"{what} is 1 to {MAX_ID}")
    return number


def parse_rider_id(text: str) -> int:
    return _whole_number(text, "a rider id (the number in the rider's ZwiftPower profile URL)")


def parse_event_id(text: str) -> int:
    """An event id, or a pasted ZwiftPower event URL holding `zid=<id>`."""
    in_url = None if isinstance(text, TypedCell) else _ZID_IN_URL.search(text.strip())
    return _whole_number(in_url.group(1) if in_url else text, "an event id (the number in the event's ZwiftPower "
                                                                "URL, zid=…)")

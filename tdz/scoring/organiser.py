"""Organiser tabs (text grids) → validated overrides, each bad row a Problem naming tab, row, column and why.

Row numbers are the ones the organiser sees: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Literal

from pydantic import BaseModel, Field

from tdz.events import EventListing
from tdz.problems import Problem
from tdz.publish.tables import (
    DQ_TAB,
    EVENTS_TAB,
    HANDICAPS_TAB,
    MANUAL_RESULTS_TAB,
    RIDERS_TAB,
    Grid,
    OrganiserTab,
)
from tdz.season import Season

_DURATION = re.compile(r"^(?:(?:([0-9]{1,4}):)?([0-9]{1,6}):)?([0-9]{1,9})(?:\.([0-9]+))?$")


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


def parse_rider_id(text: str) -> int:
    value = text.strip()
    if not value.isdigit():
        raise ValueError("a rider id is the number in the rider's ZwiftPower profile URL")
    return int(value)


_ZID_IN_URL = re.compile(r"[?&]zid=(\d+)")


def parse_event_id(text: str) -> int:
    """An event id, or a pasted ZwiftPower event URL holding `zid=<id>`."""
    value = text.strip()
    in_url = _ZID_IN_URL.search(value)
    if in_url:
        return int(in_url.group(1))
    if not value.isdigit():
        raise ValueError("an event id is the number in the event's ZwiftPower URL (zid=…)")
    return int(value)


class RiderEntry(BaseModel):
    rider_id: int
    name: str = ""
    group: str | None = None
    gender: Literal["M", "F"] | None = None
    category: str | None = None
    guest: bool = False
    row: int


class DQEntry(BaseModel):
    rider_id: int
    round_ids: tuple[str, ...] = Field(description="Empty with no event = the whole season.")
    event_id: int | None = None
    reason: str
    set_by: str = ""
    row: int


class HandicapEntry(BaseModel):
    group: str | None = None
    rider_id: int | None = None
    seconds: float
    row: int


class ManualResult(BaseModel):
    rider_id: int
    round_id: str
    time_s: float
    penalty_s: float = 0
    source: str
    row: int


class Overrides(BaseModel):
    events: list[EventListing] = Field(default_factory=list)
    riders: dict[int, RiderEntry] = Field(default_factory=dict)
    dqs: list[DQEntry] = Field(default_factory=list)
    handicaps: list[HandicapEntry] = Field(default_factory=list)
    manual_results: list[ManualResult] = Field(default_factory=list)


UNKNOWN_RIDER = "no rider with this id in the season's results or the Rider registry tab"


class _TabReader:
    """Walks one tab's rows as dicts keyed by header, collecting problems for that tab."""

    def __init__(self, tab: OrganiserTab, grid: Grid | None, problems: list[Problem]) -> None:
        self.tab = tab
        self.problems = problems
        self.rows: list[tuple[int, dict[str, str]]] = []
        if not grid:
            return
        header = [h.strip().lower().replace(" ", "_") for h in grid[0]]
        missing = [c for c in tab.header if c not in header]
        if missing:
            self.flag(1, ",".join(missing), "", f"header is missing column(s) {missing}; expected {tab.header}")
        for offset, cells in enumerate(grid[1:], start=2):
            row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
            if any(row.values()):
                self.rows.append((offset, row))

    def flag(self, row: int, column: str, value: str, why: str) -> None:
        self.problems.append(Problem(source=self.tab.name, row=row, column=column, value=value, why=why))

    def field(self, row: int, values: dict[str, str], column: str, parse: Callable[[str], object]) -> object:
        """Parse one cell; on failure flag it and return None."""
        try:
            return parse(values.get(column, ""))
        except ValueError as exc:
            self.flag(row, column, values.get(column, ""), str(exc))
            return None


def _round_ids(season: Season) -> Callable[[str], tuple[str, ...]]:
    """A parser from a round or stage id to the rounds it names ('3' → 3.1 and 3.2)."""

    def parse(text: str) -> tuple[str, ...]:
        text = text.strip()
        rounds = tuple(r.id for r in season.rounds if text in (r.id, r.stage))
        if not rounds:
            known = ", ".join(dict.fromkeys([r.id for r in season.rounds] + [r.stage for r in season.rounds]))
            raise ValueError(f"no round or stage {text!r} in the season; known: {known}")
        return rounds

    return parse


def _optional(parse: Callable[[str], object]) -> Callable[[str], object]:
    return lambda text: parse(text) if text.strip() else None


def _events(season: Season, reader: _TabReader) -> list[EventListing]:
    out: list[EventListing] = []
    seen: dict[tuple[int, str], int] = {}
    parse_rounds = _round_ids(season)
    for row, values in reader.rows:
        event_id = reader.field(row, values, "event_id", parse_event_id)
        status = (values.get("status") or "confirmed").lower()
        if status not in EVENTS_TAB.choices["status"]:
            reader.flag(row, "status", values.get("status", ""), f"status must be one of {EVENTS_TAB.choices['status']}")
            continue
        rounds = () if status == "excluded" and not values.get("round") else reader.field(row, values, "round", parse_rounds)
        if event_id is None or rounds is None:
            continue
        key = (int(event_id), values.get("round", ""))
        if key in seen:
            reader.flag(row, "event_id", values["event_id"], f"duplicate of row {seen[key]}")
            continue
        seen[key] = row
        out.append(EventListing(event_id=event_id, round=values.get("round", ""), round_ids=rounds, status=status,
                                note=values.get("note", ""), row=row))
    return out


def read_event_listings(season: Season, grid: Grid | None) -> list[EventListing]:
    """The Events tab's usable rows; bad ones are left out here and reported by `read_overrides`."""
    return _events(season, _TabReader(EVENTS_TAB, grid, []))


def _riders(reader: _TabReader) -> dict[int, RiderEntry]:
    out: dict[int, RiderEntry] = {}
    for row, values in reader.rows:
        rider_id = reader.field(row, values, "rider_id", parse_rider_id)
        gender = values.get("gender", "").upper() or None
        if gender not in (None, "M", "F"):
            reader.flag(row, "gender", values["gender"], "gender must be M, F or empty")
            continue
        guest = values.get("guest", "").lower()
        if guest not in ("", "yes", "no", "y", "n", "true", "false"):
            reader.flag(row, "guest", values["guest"], "guest must be yes or no")
            continue
        if rider_id is None:
            continue
        if rider_id in out:
            reader.flag(row, "rider_id", values["rider_id"], f"duplicate of row {out[rider_id].row}")
            continue
        out[rider_id] = RiderEntry(
            rider_id=rider_id,
            name=values.get("name", ""),
            group=values.get("group", "").upper() or None,
            gender=gender,
            category=values.get("category", "").upper() or None,
            guest=guest in ("yes", "y", "true"),
            row=row,
        )
    return out


def _dqs(season: Season, reader: _TabReader, known_riders: set[int] | None,
         known_events: set[int] | None) -> list[DQEntry]:
    out: list[DQEntry] = []
    seen: dict[tuple, int] = {}
    parse_rounds = _optional(_round_ids(season))
    for row, values in reader.rows:
        rider_id = reader.field(row, values, "rider_id", parse_rider_id)
        rounds = reader.field(row, values, "round", parse_rounds)
        event_id = reader.field(row, values, "event_id", _optional(parse_event_id))
        if rider_id is None or (values.get("round") and rounds is None) or (values.get("event_id") and event_id is None):
            continue
        if known_riders is not None and rider_id not in known_riders:
            reader.flag(row, "rider_id", values["rider_id"], UNKNOWN_RIDER)
            continue
        if event_id is not None and known_events is not None and event_id not in known_events:
            reader.flag(row, "event_id", values["event_id"], "no event with this id in the season's results")
            continue
        if not values.get("reason"):
            reader.flag(row, "reason", "", "a DQ needs a reason (riders see it)")
            continue
        key = (rider_id, values.get("round", ""), event_id)
        if key in seen:
            reader.flag(row, "rider_id", values["rider_id"], f"duplicate of row {seen[key]}")
            continue
        seen[key] = row
        out.append(DQEntry(rider_id=rider_id, round_ids=rounds or (), event_id=event_id,
                           reason=values["reason"], set_by=values.get("set_by", ""), row=row))
    return out


def _handicaps(reader: _TabReader) -> list[HandicapEntry]:
    out: list[HandicapEntry] = []
    seen: dict[tuple, int] = {}
    for row, values in reader.rows:
        group = values.get("group", "").upper() or None
        rider_id = reader.field(row, values, "rider_id", _optional(parse_rider_id))
        seconds = reader.field(row, values, "seconds", parse_duration)
        if seconds is None or (values.get("rider_id") and rider_id is None):
            continue
        if (group is None) == (rider_id is None):
            reader.flag(row, "group", values.get("group", ""), "give either a group or a rider id, not both or neither")
            continue
        key = (group, rider_id)
        if key in seen:
            reader.flag(row, "group" if group else "rider_id", group or values["rider_id"], f"duplicate of row {seen[key]}")
            continue
        seen[key] = row
        out.append(HandicapEntry(group=group, rider_id=rider_id, seconds=seconds, row=row))
    return out


def _manual_results(season: Season, reader: _TabReader, known_riders: set[int] | None) -> list[ManualResult]:
    out: list[ManualResult] = []
    seen: dict[tuple, int] = {}
    parse_rounds = _round_ids(season)
    for row, values in reader.rows:
        rider_id = reader.field(row, values, "rider_id", parse_rider_id)
        rounds = reader.field(row, values, "round", parse_rounds)
        time_s = reader.field(row, values, "time", parse_duration)
        penalty_s = reader.field(row, values, "penalty", _optional(parse_duration))
        if None in (rider_id, rounds, time_s) or (values.get("penalty") and penalty_s is None):
            continue
        if len(rounds) != 1:
            reader.flag(row, "round", values["round"], f"name one course: {', '.join(rounds)}")
            continue
        if known_riders is not None and rider_id not in known_riders:
            reader.flag(row, "rider_id", values["rider_id"], UNKNOWN_RIDER)
            continue
        if not values.get("source"):
            reader.flag(row, "source", "", "say where the time comes from (it is shown beside the result)")
            continue
        key = (rider_id, rounds[0])
        if key in seen:
            reader.flag(row, "rider_id", values["rider_id"], f"duplicate of row {seen[key]}")
            continue
        seen[key] = row
        out.append(ManualResult(rider_id=rider_id, round_id=rounds[0], time_s=time_s, penalty_s=penalty_s or 0,
                                source=values["source"], row=row))
    return out


def read_overrides(
    season: Season,
    grids: Mapping[str, Grid],
    known_riders: set[int] | None = None,
    known_events: set[int] | None = None,
) -> tuple[Overrides, list[Problem]]:
    """Validate every organiser tab; `known_riders` / `known_events` (ids in the results) let DQ and manual
    rows naming a rider or event that does not exist be flagged."""
    problems: list[Problem] = []

    def reader(tab: OrganiserTab) -> _TabReader:
        return _TabReader(tab, grids.get(tab.name), problems)

    riders = _riders(reader(RIDERS_TAB))
    known = None if known_riders is None else set(known_riders) | set(riders)
    overrides = Overrides(
        events=_events(season, reader(EVENTS_TAB)),
        riders=riders,
        dqs=_dqs(season, reader(DQ_TAB), known, known_events),
        handicaps=_handicaps(reader(HANDICAPS_TAB)),
        manual_results=_manual_results(season, reader(MANUAL_RESULTS_TAB), known),
    )
    return overrides, problems

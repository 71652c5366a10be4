"""Organiser tabs (text grids) → validated overrides, each bad row a Problem naming tab, row, column and why.

Row numbers are the ones the organiser sees: the header is row 1, the first data row is row 2. A bad row is
skipped whole (it changes nothing); the rest of the tab is used. What one cell may hold is `tdz.scoring.cells`.
"""

from __future__ import annotations

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
    TypedCell,
    UnsavedFormula,
    header_key,
)
from tdz.scoring.cells import (
    MAX_HANDICAP_S,
    MAX_PENALTY_S,
    MAX_TIME_SECONDS,
    MIN_TIME_SECONDS,
    duration,
    parse_duration,
    parse_event_id,
    parse_rider_id,
)
from tdz.season import GROUP_PATTERN, PointsScoring, Season, TimeScoring

__all__ = ["Overrides", "parse_duration", "read_event_listings", "read_overrides"]
manual_time = duration("a manual time", MIN_TIME_SECONDS, MAX_TIME_SECONDS)
penalty_time = duration("a penalty", 0, MAX_PENALTY_S)
handicap_time = duration("a handicap", 0, MAX_HANDICAP_S)

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
    """Walks one tab's rows as dicts keyed by header, collecting problems for that tab. A row holding a formula
    whose value the file does not have is reported and skipped (its value is unknown)."""

    def __init__(self, tab: OrganiserTab, grid: Grid | None, problems: list[Problem]) -> None:
        self.tab = tab
        self.problems = problems
        self.rows: list[tuple[int, dict[str, str]]] = []
        if not grid:
            return
        header = [header_key(h) for h in grid[0]]
        missing = [c for c in tab.header if c not in header]
        if missing:
            self.flag(1, ",".join(missing), "", f"header is missing column(s) {missing}; expected {tab.header}")
        for offset, cells in enumerate(grid[1:], start=2):
            row = {name: _cell(cells[i]) if i < len(cells) else "" for i, name in enumerate(header) if name}
            unsaved = [c for c, v in row.items() if isinstance(v, TypedCell) and isinstance(v.value, UnsavedFormula)]
            if unsaved:
                self.flag(offset, unsaved[0], row[unsaved[0]], "a formula with no saved value (the file was written "
                          "by a program that does not compute formulas): open the file in Excel or LibreOffice "
                          "and save it, or type the value")
            elif any(row.values()):
                self.rows.append((offset, row))

    def flag(self, row: int, column: str, value: str, why: str) -> None:
        self.problems.append(Problem(source=self.tab.name, row=row, column=column, value=str(value), why=why))

    def field(self, row: int, values: dict[str, str], column: str, parse: Callable[[str], object]) -> object:
        """Parse one cell; on failure flag it and return None."""
        try:
            return parse(values.get(column, ""))
        except ValueError as exc:
            self.flag(row, column, values.get(column, ""), str(exc))
            return None


def _cell(value: str) -> str:
    """Text trimmed; a typed cell kept as it is (its stored value decides what it means)."""
    return value if isinstance(value, TypedCell) else value.strip()


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
        out.append(EventListing(event_id=event_id, round=str(values.get("round", "")), round_ids=rounds,
                                status=status, note=str(values.get("note", "")), row=row))
    return out


def read_event_listings(season: Season, grid: Grid | None) -> list[EventListing]:
    """The Events tab's usable rows; bad ones are left out here and reported by `read_overrides`."""
    return _events(season, _TabReader(EVENTS_TAB, grid, []))


def _power_categories(season: Season) -> set[str]:
    if not isinstance(season.scoring, PointsScoring):
        return set()
    found = season.scoring.power_categories
    return {c.category.upper() for c in (*found.open, *found.women)} | {found.fallback.upper()}


def _riders(season: Season, reader: _TabReader, groups: set[str]) -> dict[int, RiderEntry]:
    """The Rider registry; a group must be one the season file or the Handicaps tab gives a handicap, a category
    one of the season's power categories."""
    out: dict[int, RiderEntry] = {}
    categories = _power_categories(season)
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
        group = values.get("group", "").upper() or None
        if group is not None and group not in groups:
            known = ", ".join(sorted(groups)) or "none: this season has no handicap groups"
            reader.flag(row, "group", values["group"], f"no handicap group {group} in the season file or the "
                                                       f"Handicaps tab; groups: {known}")
            continue
        category = values.get("category", "").upper() or None
        if category is not None and category not in categories:
            known = ", ".join(sorted(categories)) or "none: this season has no power categories"
            reader.flag(row, "category", values["category"], f"no power category {category}; categories: {known}")
            continue
        if rider_id is None:
            continue
        if rider_id in out:
            reader.flag(row, "rider_id", values["rider_id"], f"duplicate of row {out[rider_id].row}")
            continue
        out[rider_id] = RiderEntry(rider_id=rider_id, name=str(values.get("name", "")), group=group, gender=gender,
                                   category=category, guest=guest in ("yes", "y", "true"), row=row)
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
                           reason=str(values["reason"]), set_by=str(values.get("set_by", "")), row=row))
    return out


def _handicap_rows(reader: _TabReader) -> list[HandicapEntry]:
    """The Handicaps tab's rows that read well on their own (a group or a rider, and a time)."""
    out: list[HandicapEntry] = []
    for row, values in reader.rows:
        group = values.get("group", "").upper() or None
        rider_id = reader.field(row, values, "rider_id", _optional(parse_rider_id))
        seconds = reader.field(row, values, "seconds", handicap_time)
        if seconds is None or (values.get("rider_id") and rider_id is None):
            continue
        if (group is None) == (rider_id is None):
            reader.flag(row, "group", values.get("group", ""), "give either a group or a rider id, not both or neither")
            continue
        if group is not None and not GROUP_PATTERN.match(group):
            reader.flag(row, "group", values["group"], "a rider group is a capital letter and digits (A1, B3)")
            continue
        out.append(HandicapEntry(group=group, rider_id=rider_id, seconds=seconds, row=row))
    return out


def _handicaps(season: Season, reader: _TabReader, rows: list[HandicapEntry], registry: dict[int, RiderEntry],
               known_riders: set[int] | None) -> list[HandicapEntry]:
    """Handicap rows for a group the season file defines or a registered rider has, or for a known rider; one per
    group or rider."""
    if not isinstance(season.scoring, TimeScoring):
        for h in rows:
            reader.flag(h.row, "group" if h.group else "rider_id", h.group or str(h.rider_id),
                        "this season is scored on points: handicaps do not apply")
        return []
    used = set(season.scoring.handicaps) | {r.group for r in registry.values() if r.group}
    out: list[HandicapEntry] = []
    seen: dict[tuple, int] = {}
    for h in rows:
        if h.group is not None and h.group not in used:
            reader.flag(h.row, "group", h.group, f"no rider in the Rider registry has group {h.group} and the season "
                                                 "file does not define it")
            continue
        if h.rider_id is not None and known_riders is not None and h.rider_id not in known_riders:
            reader.flag(h.row, "rider_id", str(h.rider_id), UNKNOWN_RIDER)
            continue
        key = (h.group, h.rider_id)
        if key in seen:
            reader.flag(h.row, "group" if h.group else "rider_id", h.group or str(h.rider_id),
                        f"duplicate of row {seen[key]}")
            continue
        seen[key] = h.row
        out.append(h)
    return out


def _manual_results(season: Season, reader: _TabReader, known_riders: set[int] | None,
                    registry: dict[int, RiderEntry]) -> list[ManualResult]:
    out: list[ManualResult] = []
    seen: dict[tuple, int] = {}
    parse_rounds = _round_ids(season)
    registered_only = isinstance(season.scoring, TimeScoring) and season.scoring.registered_only
    for row, values in reader.rows:
        rider_id = reader.field(row, values, "rider_id", parse_rider_id)
        rounds = reader.field(row, values, "round", parse_rounds)
        time_s = reader.field(row, values, "time", manual_time)
        penalty_s = reader.field(row, values, "penalty", _optional(penalty_time))
        if None in (rider_id, rounds, time_s) or (values.get("penalty") and penalty_s is None):
            continue
        if len(rounds) != 1:
            reader.flag(row, "round", values["round"], f"name one course: {', '.join(rounds)}")
            continue
        if known_riders is not None and rider_id not in known_riders:
            reader.flag(row, "rider_id", values["rider_id"], UNKNOWN_RIDER)
            continue
        if registered_only and rider_id not in registry:
            reader.flag(row, "rider_id", values["rider_id"], "this season counts only riders in the Rider registry "
                                                             "tab: add the rider there first")
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
                                source=str(values["source"]), row=row))
    return out


def read_overrides(
    season: Season,
    grids: Mapping[str, Grid],
    known_riders: set[int] | None = None,
    known_events: set[int] | None = None,
) -> tuple[Overrides, list[Problem]]:
    """Validate every organiser tab; `known_riders` / `known_events` (ids in the results) let DQ, handicap and
    manual rows naming a rider or event that does not exist be flagged.

    Rider groups and the Handicaps tab define each other: a registry row's group must have a handicap (season file
    or a Handicaps row), and a Handicaps row's group must be the season file's or a registered rider's."""
    problems: list[Problem] = []

    def reader(tab: OrganiserTab) -> _TabReader:
        return _TabReader(tab, grids.get(tab.name), problems)

    events = _events(season, reader(EVENTS_TAB))
    riders_reader, handicaps_reader = reader(RIDERS_TAB), reader(HANDICAPS_TAB)
    handicap_rows = _handicap_rows(handicaps_reader)
    groups: set[str] = set()
    if isinstance(season.scoring, TimeScoring):
        groups = set(season.scoring.handicaps) | {h.group for h in handicap_rows if h.group}
    riders = _riders(season, riders_reader, groups)
    known = None if known_riders is None else set(known_riders) | set(riders)
    overrides = Overrides(
        events=events,
        riders=riders,
        dqs=_dqs(season, reader(DQ_TAB), known, known_events),
        handicaps=_handicaps(season, handicaps_reader, handicap_rows, riders, known),
        manual_results=_manual_results(season, reader(MANUAL_RESULTS_TAB), known, riders),
    )
    order = {name: i for i, name in enumerate((EVENTS_TAB.name, RIDERS_TAB.name, DQ_TAB.name, HANDICAPS_TAB.name,
                                               MANUAL_RESULTS_TAB.name))}
    problems.sort(key=lambda p: (order.get(p.source, len(order)), p.row or 0))
    return overrides, problems

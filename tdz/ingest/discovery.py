"""Which events count for which round: the organiser's Events tab, and discovery for rounds with none listed.

Discovery (the KWCC way) reads ZwiftPower's recent-results list and scores each event against every round
course as the season's `[discovery]` table says:

- the title must match `title_pattern` with `{stage}` filled in (else the event is no candidate for that stage);
- `series_points` when a series word is in the title, `route_points` when the course's route is;
- `in_window_points` when the event starts inside the round window (or the season's make-up week),
  `outside_window_points` otherwise;
- each penalised word in the title adds its (negative) points.

An event is scored against each course of its stage and keeps its best score; candidates scoring `min_score` or
less are dropped, and the best `max_events` per stage are kept. They come back as Events-tab rows for the stage
(every course of it: courses of one stage share events and are told apart by pen) with status `suggested` and the
score and its parts in `note`. Everything here but `discover_events` (one request for the list) is pure.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from pydantic import BaseModel, Field

from tdz.events import EventListing
from tdz.ingest import wire
from tdz.ingest.sources import FetchFailed, NotFound, ZwiftPowerClient
from tdz.problems import Problem
from tdz.season import Discovery, Round, Season


class ListedEvent(BaseModel):
    """One row of ZwiftPower's recent-results list. `fingerprint` changes whenever the row does."""

    event_id: int
    title: str
    start: datetime | None = None
    fingerprint: str = ""


def parse_event_list(body: bytes) -> tuple[list[ListedEvent], list[Problem]]:
    """Rows of `0_zwift_event_list_results_<N>.json` (`zid` or `DT_RowId`, `t` title, `tm` unix start)."""
    rows, problems = wire.data_rows(None, body, "recent-results list")
    listed: list[ListedEvent] = []
    for number, row in enumerate(rows or [], start=1):
        fields = row if isinstance(row, dict) else {}
        event_id = wire.positive_id(fields.get("zid")) or wire.positive_id(fields.get("DT_RowId"))
        if event_id is None:
            problems.append(wire.problem(None, number, "zid", row, "no event id"))
            continue
        fingerprint = hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()[:16]
        listed.append(ListedEvent(event_id=event_id, title=wire.text(fields.get("t")) or "",
                                  start=_unix_time(fields.get("tm")), fingerprint=fingerprint))
    return listed, problems


def _unix_time(value: object) -> datetime | None:
    """A start time from unix seconds (a number or a digit string); None when missing or unreadable."""
    try:
        seconds = wire.number(value)
        return None if seconds is None else datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (wire.NotANumber, OverflowError, OSError, ValueError):
        return None


def _words(text: str) -> str:
    """Lower case, punctuation as spaces: `BRAE-k Fast` and `Brae K fast` compare equal."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def _has_phrase(title: str, phrase: str) -> bool:
    return bool(phrase.strip()) and f" {_words(phrase)} " in f" {_words(title)} "


def score_candidate(event: ListedEvent, round_: Round, season: Season) -> tuple[float, str] | None:
    """The event's score for this course and how it was made; None when the title does not name the stage."""
    if round_.stage not in season.stages_named_in(event.title):
        return None
    rules = season.discovery or Discovery()
    parts: list[tuple[str, float]] = []
    if any(_has_phrase(event.title, word) for word in rules.series_words):
        parts.append(("series", rules.series_points))
    if _has_phrase(event.title, round_.route):
        parts.append(("route", rules.route_points))
    start = event.start
    if start is not None and (round_.opens <= start < round_.closes or season.in_makeup(start)):
        parts.append(("in window", rules.in_window_points))
    else:
        parts.append(("outside window" if start else "no start time", rules.outside_window_points))
    for word, points in rules.penalised_words.items():
        if _has_phrase(event.title, word):
            parts.append((repr(word), points))
    score = sum(points for _, points in parts)
    how = ", ".join(f"{name} {points:+g}" for name, points in parts)
    return score, f"discovery score {score:g} ({how})"


def discover(
    season: Season,
    listed: Iterable[ListedEvent],
    rounds: Sequence[Round],
    *,
    known_event_ids: Iterable[int] = (),
    min_score: float = 0.0,
) -> list[EventListing]:
    """Suggested Events-tab rows for `rounds`, best first per stage; events already in the tab are left out."""
    rules = season.discovery
    if rules is None or not rounds:
        return []
    known = set(known_event_ids)
    best: dict[int, tuple[float, Round, str, ListedEvent]] = {}
    for event in listed:
        if event.event_id in known:
            continue
        for round_ in rounds:
            scored = score_candidate(event, round_, season)
            if scored is None or scored[0] <= min_score:
                continue
            if event.event_id not in best or scored[0] > best[event.event_id][0]:
                best[event.event_id] = (scored[0], round_, scored[1], event)
    by_stage: dict[str, list[tuple[float, Round, str, ListedEvent]]] = {}
    for candidate in best.values():
        by_stage.setdefault(candidate[1].stage, []).append(candidate)
    rows: list[EventListing] = []
    for stage, stage_candidates in by_stage.items():
        stage_candidates.sort(key=lambda c: (-c[0], c[3].start or datetime.max.replace(tzinfo=timezone.utc),
                                             c[3].event_id))
        courses = tuple(r.id for r in season.rounds if r.stage == stage)
        for _score, _round, note, event in stage_candidates[: rules.max_events]:
            rows.append(EventListing(event_id=event.event_id, round=stage, round_ids=courses, status="suggested",
                                     note=note))
    return rows


class Discovered(BaseModel):
    """What discovery read and made of it: the recent-results list (which also tells fetching which provisional
    events changed), the Events-tab rows it suggests, and the problems it met."""

    asked: bool = Field(False, description="Whether the recent-results list was asked for at all.")
    listed: dict[int, ListedEvent] = Field(default_factory=dict)
    suggestions: list[EventListing] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    error: str = Field("", description="Why the list could not be read (ZwiftPower down); empty when it was.")

    def to_markdown(self) -> str:
        if not self.suggestions:
            return ""
        lines = ["| suggested event | round | note |", "|---|---|---|"]
        return "\n".join(lines + [f"| {s.event_id} | {s.round} | {s.note} |" for s in self.suggestions])


async def discover_events(zp: ZwiftPowerClient, season: Season, rows: Sequence[EventListing], *, now: datetime,
                          round_ids: Sequence[str] = ()) -> Discovered:
    """Read ZwiftPower's recent-results list and suggest events for the opened rounds (of `round_ids`, when given)
    that have no confirmed event in the Events tab or the season file."""
    days = season.discovery.lookback_days if season.discovery else 7
    found = Discovered(asked=True)
    try:
        body = await zp.recent_results(days)
    except NotFound:
        return found
    except FetchFailed as exc:
        found.error = str(exc)
        found.problems.append(Problem(source="zwiftpower", why=f"recent-results list not fetched: {exc}"))
        return found
    events, found.problems = parse_event_list(body)
    found.listed = {e.event_id: e for e in events}
    confirmed = {rid for r in rows if r.status == "confirmed" for rid in r.round_ids}
    confirmed |= {r.id for r in season.rounds if r.events}
    rounds = [r for r in season.rounds
              if r.opens <= now and r.id not in confirmed and (not round_ids or r.id in round_ids)]
    found.suggestions = discover(season, found.listed.values(), rounds, known_event_ids={row.event_id for row in rows})
    return found

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
score and its parts in `note`. Everything here is pure: no I/O.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from pydantic import BaseModel

from tdz.organiser import EventListing
from tdz.problems import Problem
from tdz.season import Discovery, Round, Season, Window

class ListedEvent(BaseModel):
    """One row of ZwiftPower's recent-results list. `fingerprint` changes whenever the row does."""

    event_id: int
    title: str
    start: datetime | None = None
    fingerprint: str = ""


def parse_event_list(body: bytes) -> tuple[list[ListedEvent], list[Problem]]:
    """Rows of `0_zwift_event_list_results_<N>.json` (`zid` or `DT_RowId`, `t` title, `tm` unix start)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        return [], [Problem(source="zwiftpower", why=f"recent-results list is not JSON ({exc})")]
    rows = data.get("data") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        return [], [Problem(source="zwiftpower", why="recent-results list has no `data` list")]
    listed: list[ListedEvent] = []
    problems: list[Problem] = []
    for number, row in enumerate(rows, start=1):
        digits = re.sub(r"\D", "", str(row.get("zid") or row.get("DT_RowId") or "")) if isinstance(row, dict) else ""
        if not digits:
            problems.append(
                Problem(source="zwiftpower", row=number, column="zid", value=str(row)[:80], why="no event id")
            )
            continue
        start = None
        try:
            start = datetime.fromtimestamp(float(row.get("tm")), tz=timezone.utc)
        except (TypeError, ValueError, OverflowError):
            pass
        fingerprint = hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()[:16]
        listed.append(
            ListedEvent(event_id=int(digits), title=html.unescape(str(row.get("t") or "")), start=start,
                        fingerprint=fingerprint)
        )
    return listed, problems


def _words(text: str) -> str:
    """Lower case, punctuation as spaces: `BRAE-k Fast` and `Brae K fast` compare equal."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def _has_phrase(title: str, phrase: str) -> bool:
    return bool(phrase.strip()) and f" {_words(phrase)} " in f" {_words(title)} "


def _in_window(start: datetime, round_: Round, makeup: Window | None) -> bool:
    if round_.opens <= start < round_.closes:
        return True
    return makeup is not None and makeup.opens <= start < makeup.closes


def score_candidate(
    event: ListedEvent, round_: Round, rules: Discovery, makeup: Window | None = None
) -> tuple[float, str] | None:
    """The event's score for this course and how it was made; None when the title does not name the stage."""
    pattern = rules.title_pattern.replace("{stage}", re.escape(round_.stage))
    if not re.search(pattern, event.title, flags=re.IGNORECASE):
        return None
    parts: list[tuple[str, float]] = []
    if any(_has_phrase(event.title, word) for word in rules.series_words):
        parts.append(("series", rules.series_points))
    if _has_phrase(event.title, round_.route):
        parts.append(("route", rules.route_points))
    if event.start is not None and _in_window(event.start, round_, makeup):
        parts.append(("in window", rules.in_window_points))
    else:
        parts.append(("outside window" if event.start else "no start time", rules.outside_window_points))
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
            scored = score_candidate(event, round_, rules, season.season.makeup)
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

"""Wire format → typed frames: ZwiftPower and Zwift payloads from the raw archive become efforts, segments, events.

Every parser is total over user input: a row it cannot use becomes a `Problem` (where, what, why) and is skipped,
the rest of the event is kept, and a payload of the wrong shape is one problem and an empty frame. The quirks it
absorbs are those of ZwiftPower's JSON: metrics as `[value, flag]` pairs or bare values, numbers as strings,
`""`, `"-"` and `0` for "unknown", HTML-escaped names, `zwid` an int or a string, `flag` the rider's country.

Choices worth knowing:
- `time_s` is `time[0]` (the rider's own time from their pen's start, decimals kept); `gun_time_s` is `time_gun`.
  Which one scores is the season's choice, not the parser's. No finish time → `time_s` NaN and status "dnf".
- A value that is not a number in a column other than the finish time (power, weight, position…) is left empty
  and reported; the row is kept, since the effort still counts.
- DQ'd and upgraded riders are absent from `_view.json`; `parse_archive` takes them from the slim `_zwift.json`
  (`dq_cat`) as rows with status "dq". Their `row` is their position in `_zwift.json`'s `data` list.
- `event_sprints` may list a rider twice; each segment keeps the rider's fastest time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from tdz.ingest import wire
from tdz.ingest.archive import Archive, PayloadKind
from tdz.problems import Problem

EFFORT_DTYPES: dict[str, str] = {
    "event_id": "int64",
    "row": "int64",  # 1-based position of the row in the payload's `data` list
    "rider_id": "int64",
    "rider_name": "string",  # HTML entities decoded
    "team": "string",  # tname decoded; <NA> when empty
    "country": "string",  # the `flag` field, lower case; <NA> when empty
    "gender": "string",  # "M" / "F" from `male`
    "age_category": "string",  # <NA> for "" and "-"
    "pen": "string",  # "A".."E" from `category`, else from `label` "1".."5"
    "position": "Int64",  # `pos`
    "time_s": "float64",  # time[0]; NaN when missing/0 (then status dnf)
    "gun_time_s": "float64",  # time_gun; NaN when missing/0
    "avg_power_w": "float64",  # NaN when "", "-", 0 or absent
    "avg_wkg": "float64",
    "weight_kg": "float64",
    "status": "string",  # "ok", "dnf" (no finish time), "dq" (ZwiftPower DQ/upgrade, from results_zwift dq_cat)
    "status_reason": "string",  # e.g. "ZwiftPower DQ (ZP)"; <NA> when ok
}
SEGMENT_DTYPES: dict[str, str] = {
    "event_id": "int64",
    "rider_id": "int64",
    "segment_id": "string",
    "segment_time_s": "float64",
}
EVENT_DTYPES: dict[str, str] = {
    "event_id": "int64",
    "event_name": "string",  # <NA> when the Zwift event payload is missing
    "event_start": "datetime64[ns, UTC]",  # NaT when unknown
    "event_type": "string",  # Zwift's eventType: RACE, GROUP_RIDE, TIME_TRIAL…; <NA> when unknown
    "route_id": "Int64",  # Zwift routeId (often > 2**31)
    "distance_m": "float64",
    "pens": "string",  # subgroup labels joined, e.g. "A,B,C"
    "has_details": "bool",  # the Zwift event payload is archived and usable
    "has_dq_list": "bool",  # ZwiftPower's slim `_zwift.json` (which keeps DQs and upgrades) is archived
}
SUBGROUP_DTYPES: dict[str, str] = {
    "event_id": "int64",
    "pen": "string",  # subgroupLabel A..E
    "route_id": "Int64",  # the pen's routeId, else the event's
    "laps": "Int64",  # <NA> when not given or 0
    "distance_m": "float64",  # NaN when not given or 0 (lap-based)
}


def empty_frame(dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})


@dataclass
class ParsedArchive:
    """Everything scoring needs from the raw archive, typed, plus what could not be read."""

    efforts: pd.DataFrame  # EFFORT_DTYPES: one row per result row (every pen, every status)
    segments: pd.DataFrame  # SEGMENT_DTYPES: one row per rider, event and segment with a time
    events: pd.DataFrame  # EVENT_DTYPES: one row per archived event
    subgroups: pd.DataFrame = field(default_factory=lambda: empty_frame(SUBGROUP_DTYPES))  # one row per event pen
    problems: list[Problem] = field(default_factory=list)


_DQ_REASONS = {"ZP": "ZwiftPower DQ (ZP)", "UPG": "ZwiftPower upgrade (UPG)"}


def _frame(records: list[dict[str, object]], dtypes: dict[str, str]) -> pd.DataFrame:
    if not records:
        return empty_frame(dtypes)
    return pd.DataFrame({name: pd.Series([r[name] for r in records], dtype=dtype) for name, dtype in dtypes.items()})


def _effort(
    event_id: int, index: int, raw: object, kind: str, dq_reason: str | None = None
) -> tuple[dict[str, object] | None, list[Problem]]:
    """One result row → an efforts record; None when the row is unusable (the problem says why).

    With `dq_reason` the row is a ZwiftPower DQ: its finish time is informative only, so a bad one is reported
    and left empty instead of dropping the row.
    """

    def problem(column: str, value: object, why: str) -> Problem:
        return wire.problem(event_id, index, column, value, why)

    if not isinstance(raw, dict):
        return None, [problem("", raw, f"{kind}: row is not an object; skipped")]
    rider_id = wire.positive_id(raw.get("zwid"))
    if rider_id is None:
        return None, [problem("zwid", raw.get("zwid"), f"{kind}: no usable rider id (zwid); row skipped")]
    problems: list[Problem] = []
    try:
        time_s = wire.number(raw.get("time"))
    except wire.NotANumber:
        if dq_reason is None:
            return None, [problem("time", raw.get("time"), f"{kind}: finish time is not a number; row skipped")]
        problems.append(problem("time", raw.get("time"), f"{kind}: finish time is not a number; left empty"))
        time_s = None

    def number(*keys: str) -> float | None:
        key = next((k for k in keys if k in raw), keys[0])
        try:
            return wire.number(raw.get(key))
        except wire.NotANumber:
            problems.append(problem(key, raw.get(key), f"{kind}: not a number; left empty"))
            return None

    position = number("pos")
    if position is not None and not (position.is_integer() and position < 2**31):
        problems.append(problem("pos", raw.get("pos"), f"{kind}: position is not a whole number; left empty"))
        position = None
    country = wire.text(raw.get("flag"))
    if dq_reason is not None:
        status, reason = "dq", dq_reason
    elif time_s is None:
        status, reason = "dnf", "no finish time on ZwiftPower"
    else:
        status, reason = "ok", None
    record: dict[str, object] = {
        "event_id": event_id,
        "row": index,
        "rider_id": rider_id,
        "rider_name": wire.text(raw.get("name")),
        "team": wire.text(raw.get("tname")),
        "country": country.lower() if country else None,
        "gender": wire.gender(raw.get("male")),
        "age_category": wire.text(raw.get("age")),
        "pen": wire.pen(raw.get("category"), raw.get("label")),
        "position": None if position is None else int(position),
        "time_s": time_s,
        "gun_time_s": number("time_gun"),
        "avg_power_w": number("avg_power", "watts"),
        "avg_wkg": number("avg_wkg", "wkg"),
        "weight_kg": number("weight"),
        "status": status,
        "status_reason": reason,
    }
    return record, problems


_Records = list[dict[str, object]]


def _efforts(event_id: int, body: object, kind: str, dq_only: bool) -> tuple[_Records, list[Problem]]:
    rows, problems = wire.data_rows(event_id, body, kind)
    records: _Records = []
    for index, raw in enumerate(rows or [], start=1):
        reason = None
        if dq_only:
            code = wire.text(raw.get("dq_cat")) if isinstance(raw, dict) else ""
            if code is None:
                continue
            reason = dq_reason(code)
        record, row_problems = _effort(event_id, index, raw, kind, reason)
        problems.extend(row_problems)
        if record is not None:
            records.append(record)
    return records, problems


def parse_results(
    event_id: int, body: bytes | object, kind: str = "results_view"
) -> tuple[pd.DataFrame, list[Problem]]:
    """A `_view.json` (or `api3.php?do=event_results`) payload → efforts (EFFORT_DTYPES), one row per usable row.

    `body` is the raw bytes or the already decoded document. Riders without a finish time are kept as "dnf".
    """
    records, problems = _efforts(event_id, body, kind, dq_only=False)
    return _frame(records, EFFORT_DTYPES), problems


def dq_reason(code: str) -> str:
    """The status reason shown for a ZwiftPower `dq_cat` code."""
    return _DQ_REASONS.get(code.upper(), f"ZwiftPower {code}")


def parse_zwift_dq(event_id: int, body: bytes | object) -> tuple[pd.DataFrame, list[Problem]]:
    """The slim `_zwift.json` payload → the rows whose `dq_cat` is set, as efforts with status "dq".

    Those riders are absent from `_view.json`. Rows without `dq_cat` are not read (nor reported). Power comes
    from `watts`/`wkg`; `race_time` is not read (its unit is unverified), so `time_s` is set only by a `time`.
    """
    records, problems = _efforts(event_id, body, "results_zwift", dq_only=True)
    return _frame(records, EFFORT_DTYPES), problems


def _segment_times(raw: object) -> Iterable[tuple[str, object]]:
    """The (segment id, value) pairs of `msec`; PHP sends an empty mapping as `[]` and a 0-based one as a list."""
    if isinstance(raw, dict):
        return ((str(k), v) for k, v in raw.items())
    if isinstance(raw, list):
        return ((str(i), v) for i, v in enumerate(raw))
    return ()


def _segments(event_id: int, body: object) -> tuple[_Records, list[Problem]]:
    kind = "event_sprints"
    rows, problems = wire.data_rows(event_id, body, kind)
    best: dict[tuple[int, str], float] = {}
    for index, raw in enumerate(rows or [], start=1):
        if not isinstance(raw, dict):
            problems.append(wire.problem(event_id, index, "", raw, f"{kind}: row is not an object; skipped"))
            continue
        rider_id = wire.positive_id(raw.get("zwid"))
        msec = raw.get("msec")
        if rider_id is None:
            why = f"{kind}: no usable rider id (zwid); row skipped"
            problems.append(wire.problem(event_id, index, "zwid", raw.get("zwid"), why))
            continue
        if msec is not None and not isinstance(msec, (dict, list)):
            why = f"{kind}: segment times are not a mapping; row skipped"
            problems.append(wire.problem(event_id, index, "msec", msec, why))
            continue
        for segment_id, value in _segment_times(msec):
            try:
                seconds = wire.number(value)
            except wire.NotANumber:
                why = f"{kind}: segment time is not a number; segment skipped"
                problems.append(wire.problem(event_id, index, f"msec.{segment_id}", value, why))
                continue
            key = (rider_id, segment_id)
            if seconds is not None and (key not in best or seconds < best[key]):
                best[key] = seconds
    records = [
        {"event_id": event_id, "rider_id": rider, "segment_id": segment, "segment_time_s": seconds}
        for (rider, segment), seconds in best.items()
    ]
    return records, problems


def parse_sprints(event_id: int, body: bytes | object) -> tuple[pd.DataFrame, list[Problem]]:
    """An `event_sprints` payload → segments (SEGMENT_DTYPES): one row per rider and segment with a time.

    `msec` holds seconds despite its name. A missing key, `""`, `"-"` or `0` means no time (no row).
    """
    records, problems = _segments(event_id, body)
    return _frame(records, SEGMENT_DTYPES), problems


def _event_start(value: object) -> pd.Timestamp | None:
    """Zwift's `eventStart` ("2026-01-05T17:00:00.000+0000") as a UTC timestamp; naive times are taken as UTC."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("not text")
    moment = datetime.fromisoformat(value.strip())
    if not 1970 <= moment.year <= 2200:
        raise ValueError("out of range")
    stamp = pd.Timestamp(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return stamp.tz_convert("UTC")


def parse_zwift_event(
    body: bytes | object, event_id: int | None = None
) -> tuple[dict[str, object] | None, list[dict[str, object]], list[Problem]]:
    """A Zwift public events API payload → one EVENT_DTYPES record (None when it has no usable `id`) and one
    SUBGROUP_DTYPES record per pen (`eventSubgroups`: the route, laps and distance that pen rode).

    `event_id` (the archive's) only labels problems. A distance of 0 (lap-based events) or 0 laps is left empty;
    a pen without a `routeId` rode the event's.
    """

    def problem(column: str, value: object, why: str) -> Problem:
        return wire.problem(event_id, None, column, value, why, source="zwift")

    document, not_json = wire.loads(body)
    if not_json:
        return None, [], [Problem(source="zwift", event_id=event_id, why=f"zwift_event: {not_json}")]
    if not isinstance(document, dict):
        return None, [], [problem("", document, "zwift_event: expected an object")]
    found_id = wire.positive_id(document.get("id"))
    if found_id is None:
        return None, [], [problem("id", document.get("id"), "zwift_event: no usable event id")]
    problems: list[Problem] = []
    try:
        start = _event_start(document.get("eventStart"))
    except (ValueError, TypeError, OverflowError):
        why = "zwift_event: not a date-time; left empty"
        problems.append(problem("eventStart", document.get("eventStart"), why))
        start = None

    def whole(fields: dict, key: str, where: str) -> int | None:
        value = fields.get(key)
        number = wire.whole(value)
        if number is None and value not in (None, ""):
            problems.append(problem(f"{where}{key}", value, f"zwift_event: {key} is not a whole number; left empty"))
        return number or None

    def metres(fields: dict, where: str) -> float | None:
        try:
            return wire.number(fields.get("distanceInMeters")) or None
        except wire.NotANumber:
            why = "zwift_event: distance is not a number; left empty"
            problems.append(problem(f"{where}distanceInMeters", fields.get("distanceInMeters"), why))
            return None

    route = whole(document, "routeId", "")
    subgroups = document.get("eventSubgroups")
    pens: list[dict[str, object]] = []
    for index, group in enumerate(subgroups if isinstance(subgroups, list) else []):
        label = wire.text(group.get("subgroupLabel")) if isinstance(group, dict) else None
        if label is None:
            problems.append(problem(f"eventSubgroups[{index}]", group, "zwift_event: pen without a label; skipped"))
            continue
        where = f"eventSubgroups[{index}]."
        pens.append({"event_id": found_id, "pen": label.upper(), "route_id": whole(group, "routeId", where) or route,
                     "laps": whole(group, "laps", where), "distance_m": metres(group, where)})
    record: dict[str, object] = {
        "event_id": found_id,
        "event_name": wire.text(document.get("name")),
        "event_start": start,
        "event_type": (wire.text(document.get("eventType")) or "").upper() or None,
        "route_id": route,
        "distance_m": metres(document, ""),
        "pens": ",".join(sorted({str(p["pen"]) for p in pens})) or None,
        "has_details": True,
    }
    return record, pens, problems


def _read(archive: Archive, event_id: int, kind: PayloadKind, problems: list[Problem]) -> bytes | None:
    try:
        return archive.read(event_id, kind)
    except OSError as exc:
        source = "zwift" if kind == "zwift_event" else wire.ZP
        why = f"{kind}: cannot read the stored payload ({exc.strerror or exc})"
        problems.append(Problem(source=source, event_id=event_id, why=why))
        return None


def parse_archive(archive: Archive) -> ParsedArchive:
    """Every event of a season's raw archive → typed efforts, segments and events, plus every problem found.

    Efforts hold every result row of `_view.json` and the DQ'd riders of `_zwift.json` that `_view.json` no
    longer lists. Rows are sorted by (event_id, row), `_view.json` rows first on a tie. Events hold one row per
    archived event; its fields stay empty when the Zwift event payload is missing or unusable.
    """
    efforts: _Records = []
    segments: _Records = []
    events: _Records = []
    subgroups: _Records = []
    problems: list[Problem] = []
    for event_id in archive.event_ids():
        listed: set[object] = set()
        has_view = has_dq_list = False
        body = _read(archive, event_id, "results_view", problems)
        if body is not None:
            has_view = True
            view, found = _efforts(event_id, body, "results_view", dq_only=False)
            problems.extend(found)
            efforts.extend(view)
            listed = {r["rider_id"] for r in view}
        body = _read(archive, event_id, "results_zwift", problems)
        if body is not None:
            has_dq_list = True
            dq, found = _efforts(event_id, body, "results_zwift", dq_only=True)
            problems.extend(found)
            efforts.extend(r for r in dq if r["rider_id"] not in listed)
        body = _read(archive, event_id, "event_sprints", problems)
        if body is not None:
            sprints, found = _segments(event_id, body)
            problems.extend(found)
            segments.extend(sprints)
            if has_view and not has_dq_list:
                problems.extend(_missing_dq_list(event_id, listed, sprints))
        elif has_view and not has_dq_list:
            problems.extend(_missing_dq_list(event_id, listed, []))
        record, pens = None, []
        body = _read(archive, event_id, "zwift_event", problems)
        if body is not None:
            record, pens, found = parse_zwift_event(body, event_id=event_id)
            problems.extend(found)
        if record is not None and record["event_id"] != event_id:
            why = f"zwift_event: payload is for event {record['event_id']}; ignored"
            problems.append(wire.problem(event_id, None, "id", record["event_id"], why, source="zwift"))
            record, pens = None, []
        events.append((record or dict.fromkeys(EVENT_DTYPES) | {"event_id": event_id, "has_details": False})
                      | {"has_dq_list": has_dq_list})
        subgroups.extend(pens)
    efforts.sort(key=lambda r: (r["event_id"], r["row"]))  # stable: _view.json rows first on a tie
    return ParsedArchive(
        efforts=_frame(efforts, EFFORT_DTYPES),
        segments=_frame(segments, SEGMENT_DTYPES),
        events=_frame(events, EVENT_DTYPES),
        subgroups=_frame(subgroups, SUBGROUP_DTYPES),
        problems=problems,
    )


def _missing_dq_list(event_id: int, listed: set[object], sprints: _Records) -> list[Problem]:
    """No `_zwift.json` for an event with results: its DQs and upgrades cannot be read. Riders with a segment time
    but no result row are the trace a DQ leaves; they are named."""
    problems = [Problem(source=wire.ZP, event_id=event_id, column="results_zwift",
                        why="DQs and upgrades of this event could not be read (ZwiftPower has no _zwift.json for "
                            "it); its round stays provisional and the next run asks again")]
    missing = sorted({int(r["rider_id"]) for r in sprints} - {int(r) for r in listed})  # type: ignore[call-overload]
    if missing:
        problems.append(Problem(source=wire.ZP, event_id=event_id, column="zwid", value=", ".join(map(str, missing)),
                                why="rider(s) with segment times but missing from the results: disqualified "
                                    "upstream? check ZwiftPower and add a DQ row if so"))
    return problems


def parser_version() -> str:
    """A fingerprint of the code that turns the archive into frames (this module, the wire readers, the archive
    format): a cached parse of the same archive is valid only while it is unchanged."""
    digest = hashlib.sha256()
    for module in ("parse.py", "wire.py", "archive.py"):
        digest.update((Path(__file__).resolve().parent / module).read_bytes())
    return digest.hexdigest()[:16]

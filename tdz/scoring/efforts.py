"""Efforts as the rules see them: each result assigned to its round(s), timed, penalised, flagged, best marked.

Shared by every scoring kind; everything here is driven by the season file and the organiser's overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from tdz.events import listed_event_rounds
from tdz.ingest.parse import ParsedArchive
from tdz.problems import Problem
from tdz.routes import route_names_by_id
from tdz.scoring.organiser import Overrides
from tdz.scoring.ranking import first_per_group, sort_key, whole_ms
from tdz.season import Season, TimeScoring


@dataclass
class PreparedEfforts:
    """One row per effort and round it counts for (grain: round_id × event_id × rider_id, plus manual rows)."""

    efforts: pd.DataFrame
    problems: list[Problem]


def rounds_frame(season: Season) -> pd.DataFrame:
    """The season's rounds as a frame, one row per round in season order."""
    return pd.DataFrame(
        {
            "round_id": [r.id for r in season.rounds],
            "round_order": range(len(season.rounds)),
            "stage": [r.stage for r in season.rounds],
            "route": [r.route for r in season.rounds],
            "terrain": [r.terrain or "" for r in season.rounds],
            "round_pen": [r.pen or "" for r in season.rounds],
            "course_route_id": pd.array([r.route_id for r in season.rounds], dtype="Int64"),
            "course_laps": pd.array([r.laps for r in season.rounds], dtype="Int64"),
            "course_distance_m": [r.distance_km * 1000 if r.distance_km else np.nan for r in season.rounds],
            "segment_id": [r.segment.id if r.segment else "" for r in season.rounds],
            "race_policy": [r.race_policy for r in season.rounds],
            "race_penalty_s": [float(r.race_penalty_seconds) for r in season.rounds],
            "start_penalty_applies": [r.start_penalty for r in season.rounds],
            "closes": pd.to_datetime([r.closes for r in season.rounds], utc=True),
        }
    )


def round_status(season: Season, now: datetime, incomplete: set[str] | None = None) -> dict[str, str]:
    """`final` once a round's window closed plus the season's settle time, else `provisional`; a round in
    `incomplete` (an event of it lacks its Zwift details or ZwiftPower's DQ list) stays provisional."""
    final = season.final_round_ids(now) - (incomplete or set())
    return {r.id: "final" if r.id in final else "provisional" for r in season.rounds}


def incomplete_rounds(parsed: ParsedArchive, efforts: pd.DataFrame) -> set[str]:
    """Rounds with a result from an event whose Zwift details or `_zwift.json` could not be read: what they
    would decide (race, start time, course, DQs) may still change them."""
    events = parsed.events
    lacking = events.loc[~(events["has_details"].astype(bool) & events["has_dq_list"].astype(bool)), "event_id"]
    return set(efforts.loc[efforts["event_id"].isin(set(lacking.tolist())), "round_id"].dropna().tolist())


def assign_events(
    season: Season, events: pd.DataFrame, overrides: Overrides
) -> tuple[pd.DataFrame, list[Problem]]:
    """Event → round(s): listed events first (season file, Events tab), then the round windows, then the make-up
    week by the stage its title names.

    Returns one row per (event_id, round_id) with `listing` (confirmed/suggested/window/makeup/excluded) and the
    problems for events that fit no round.
    """
    listed = listed_event_rounds(season, overrides.events)
    rows: list[tuple[int, str, str]] = []
    problems: list[Problem] = []
    for event_id, name, start in events[["event_id", "event_name", "event_start"]].itertuples(index=False):
        if event_id in listed.counted:
            rows.extend((event_id, round_id, status) for round_id, status in listed.counted[event_id])
            continue
        if event_id in listed.unconfirmed:
            continue
        if event_id in listed.excluded:  # still shown in the efforts tab, marked excluded, where its window says
            when = None if pd.isna(start) else start.to_pydatetime()
            rows.extend((event_id, r.id, "excluded") for r in (season.rounds_open_at(when) if when else []))
            continue
        if pd.isna(start):
            problems.append(Problem(source="zwift", event_id=event_id, column="eventStart",
                                    why="event start unknown, so its round is unknown: list it in the Events tab"))
            continue
        in_window = season.rounds_open_at(start.to_pydatetime())
        if in_window:
            rows.extend((event_id, r.id, "window") for r in in_window)
            continue
        if season.in_makeup(start.to_pydatetime()):
            stages = season.stages_named_in(name or "")
            if len(stages) == 1:
                rows.extend((event_id, r.id, "makeup") for r in season.rounds if r.stage == stages[0])
                continue
        problems.append(Problem(source="zwift", event_id=event_id, column="eventStart", value=str(start),
                                why="event starts outside every round window; list it in the Events tab to count it"))
    frame = pd.DataFrame(rows, columns=["event_id", "round_id", "listing"]).astype(
        {"event_id": "int64", "round_id": "string", "listing": "string"}
    )
    return frame, problems


def _start_penalty(season: Season, starts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Seconds of start-time penalty per effort, and the reason in words ("" when none)."""
    rule = season.scoring.start_penalty if isinstance(season.scoring, TimeScoring) else None
    none = pd.Series("", index=starts.index, dtype="string")
    if rule is None:
        return pd.Series(0.0, index=starts.index), none
    minutes = starts.dt.hour * 60 + starts.dt.minute + starts.dt.second / 60
    hit = pd.Series(False, index=starts.index)
    for t in rule.times_utc:
        hit |= (minutes - (t.hour * 60 + t.minute)).abs() <= rule.tolerance_minutes
    hit = (hit & (starts.dt.day_of_week == rule.weekday_index)).fillna(False).astype(bool)
    times = " or ".join(t.strftime("%H:%M") for t in rule.times_utc)
    reason = none.mask(hit, "started " + starts.dt.strftime("%a %H:%M UTC").astype("string")
                       + f" (within {rule.tolerance_minutes:g} min of {rule.weekday.title()} {times} UTC)")
    return hit.astype(float) * rule.seconds, reason


def _race_reason(season: Season, efforts: pd.DataFrame) -> pd.Series:
    """Why each effort's event is a race, in words ("" when it is not): Zwift's event type, the name, or both,
    as far as the season's `race_signals` count them."""
    scoring = season.scoring
    signals = scoring.race_signals if isinstance(scoring, TimeScoring) else ()
    pattern = getattr(scoring, "race_pattern", None)
    never = np.zeros(len(efforts), dtype=bool)
    typed = efforts["event_type"].eq("RACE").fillna(False).to_numpy(bool) if "event_type" in signals else never
    named = (efforts["event_name"].fillna("").str.contains(pattern, case=False, regex=True).to_numpy(bool)
             if pattern and "name" in signals else never)
    reason = np.select([typed & named, typed, named],
                       [f"Zwift event type RACE; name matches {pattern}", "Zwift event type RACE",
                        f"name matches {pattern}"], "")
    return pd.Series(reason, index=efforts.index, dtype="string")


def _route_label(route_id: object, laps: object, distance_m: object) -> str:
    name = route_names_by_id().get(int(route_id), f"route {route_id}") if pd.notna(route_id) else "an unknown route"
    if pd.notna(laps) and int(laps) > 1:
        name = f"{int(laps)} laps of {name}"
    if pd.notna(distance_m):
        name += f" ({float(distance_m) / 1000:.1f} km)"
    return name


def _courses(season: Season, efforts: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Whether each (effort, course) row is that course: the rider's pen rode the course's route (and its laps
    and distance where the course sets them), from the event's Zwift details; where those do not say which route
    the pen rode, the course's pen letter decides (every pen when it names none). Returns (fits, decided by pen
    letter, the reason in words when it does not fit)."""
    known = efforts["pen_route_id"].notna()
    same_route = efforts["pen_route_id"].eq(efforts["course_route_id"]).fillna(False).astype(bool)
    laps_ok = (efforts["course_laps"].isna() | efforts["pen_laps"].isna()
               | efforts["pen_laps"].eq(efforts["course_laps"])).fillna(True).astype(bool)
    gap = (efforts["pen_distance_m"] - efforts["course_distance_m"]).abs()
    distance_ok = ~(gap > season.season.distance_tolerance * efforts["course_distance_m"]).fillna(False)
    by_route = same_route & laps_ok & distance_ok
    by_pen = (efforts["round_pen"].eq("") | efforts["pen"].eq(efforts["round_pen"])).fillna(False).astype(bool)
    fits = by_route.where(known, by_pen)
    why = pd.Series("", index=efforts.index, dtype="string")
    wrong_route = known & ~by_route
    if wrong_route.any():
        rode = [f"pen {pen or '?'} rode {_route_label(r, laps, d)}, not {course}"
                for pen, r, laps, d, course in efforts.loc[wrong_route, ["pen", "pen_route_id", "pen_laps",
                                                                          "pen_distance_m", "route"]].itertuples(
                    index=False)]
        why.loc[wrong_route] = rode
    wrong_pen = ~known & ~by_pen
    why.loc[wrong_pen] = ("rode pen " + efforts.loc[wrong_pen, "pen"].fillna("?") + "; this course counts pen "
                          + efforts.loc[wrong_pen, "round_pen"] + " (Zwift's details do not say which route each pen "
                          "rode)")
    return fits.astype(bool), ~known & efforts["round_pen"].ne(""), why


def _detail_problems(parsed: ParsedArchive, efforts: pd.DataFrame, by_pen_letter: pd.Series) -> list[Problem]:
    """One problem per counted event whose Zwift details could not be read, or do not say which route a pen
    rode: what could not be decided, so the organiser knows why the round stays provisional."""
    problems: list[Problem] = []
    counted = set(efforts["event_id"].tolist())
    missing = parsed.events[~parsed.events["has_details"].astype(bool) & parsed.events["event_id"].isin(counted)]
    for event_id in missing["event_id"].tolist():
        problems.append(Problem(source="zwift", event_id=int(event_id), why=(
            "Zwift event details missing: whether it is a race, its start-time penalty and which course each pen "
            "rode could not be decided (scored without those penalties; the course by pen letter); its round "
            "stays provisional and the next run asks Zwift again")))
    unsaid = efforts[by_pen_letter & efforts["event_id"].isin(set(parsed.events.loc[
        parsed.events["has_details"].astype(bool), "event_id"].tolist()))]
    for event_id, pens in unsaid.groupby("event_id")["pen"]:
        letters = ", ".join(sorted({str(p) for p in pens.dropna()})) or "?"
        problems.append(Problem(source="zwift", event_id=int(event_id), column="eventSubgroups", value=letters,
                                why="course decided by pen letter: Zwift's details of this event do not say which "
                                    "route these pens rode"))
    return problems


def _apply_dqs(efforts: pd.DataFrame, overrides: Overrides) -> None:
    """Mark every effort a DQ row covers, manual results included (they have no event: only a season or round DQ
    covers them). The reason is shown to riders; who decided stays on the DQ tab."""
    if not overrides.dqs:
        return
    rows = []
    for dq in overrides.dqs:
        reason = f"DQ: {dq.reason}"
        for round_id in dq.round_ids or ("",):
            rows.append((dq.rider_id, round_id, dq.event_id if dq.event_id is not None else -1, reason))
    table = pd.DataFrame(rows, columns=["rider_id", "dq_round", "dq_event", "dq_reason"])
    keyed = efforts[["rider_id", "round_id", "event_id"]].reset_index().merge(table, on="rider_id")
    match = ((keyed["dq_round"] == "") | (keyed["dq_round"] == keyed["round_id"])) & (
        (keyed["dq_event"] == -1) | (keyed["dq_event"] == keyed["event_id"]).fillna(False)
    )
    hits = keyed[match].drop_duplicates("index").set_index("index")["dq_reason"]
    if len(hits):
        efforts.loc[hits.index, "status"] = "dq"
        efforts.loc[hits.index, "status_reason"] = hits.astype("string")


def prepare_efforts(season: Season, parsed: ParsedArchive, overrides: Overrides) -> PreparedEfforts:
    """Every effort on its round(s) with finish time, segment time, penalties, status and the best effort marked."""
    assignment, problems = assign_events(season, parsed.events, overrides)
    rounds = rounds_frame(season)
    # Event and round columns joined to the (small) assignment first: one wide merge instead of three.
    assignment = assignment.merge(parsed.events[["event_id", "event_name", "event_start"]], on="event_id",
                                  how="left").merge(rounds, on="round_id", how="left")
    efforts = parsed.efforts.merge(assignment, on="event_id", how="inner")

    scoring = season.scoring
    if isinstance(scoring, TimeScoring) and scoring.registered_only:
        efforts = efforts[efforts["rider_id"].isin(list(overrides.riders))]

    pens = parsed.subgroups.drop_duplicates(["event_id", "pen"]).rename(
        columns={"route_id": "pen_route_id", "laps": "pen_laps", "distance_m": "pen_distance_m"})
    efforts = efforts.merge(pens, on=["event_id", "pen"], how="left")
    efforts = efforts.merge(parsed.events[["event_id", "event_type"]], on="event_id", how="left")
    efforts["pen_route"] = efforts["pen_route_id"].map(route_names_by_id()).astype("string")
    # An effort counts for the course its pen rode; one that fits no course of its event stays, excluded.
    fits, by_pen_letter, not_the_course = _courses(season, efforts)
    fits_somewhere = fits.groupby([efforts["event_id"], efforts["rider_id"]]).transform("any")
    first_of_effort = ~efforts.duplicated(["event_id", "rider_id"])
    kept = fits | (~fits_somewhere & first_of_effort)
    several = ~fits_somewhere & efforts.duplicated(["event_id", "rider_id"], keep=False)
    if several.any():  # an effort that fits none of its event's courses: name them all
        courses = efforts[several].groupby(["event_id", "rider_id"])["route"].agg(lambda r: " or ".join(dict.fromkeys(r)))
        lone = efforts[several & first_of_effort]
        named = pd.MultiIndex.from_frame(lone[["event_id", "rider_id"]]).map(courses)
        not_the_course.loc[lone.index] = [f"{why.rsplit(', not ', 1)[0]}, not {c}" if ", not " in why else why
                                          for why, c in zip(not_the_course.loc[lone.index], named, strict=True)]
    efforts, fits, not_the_course = efforts[kept], fits[kept], not_the_course[kept]
    problems += _detail_problems(parsed, efforts, by_pen_letter[kept])

    time_column = "time_s" if season.season.finish_time == "time" else "gun_time_s"
    efforts["finish_time_s"] = whole_ms(efforts[time_column])
    efforts.loc[efforts["status"].eq("ok") & efforts["finish_time_s"].isna(), "status"] = "dnf"

    efforts["race_reason"] = _race_reason(season, efforts)
    is_race = efforts["race_reason"].ne("")
    penalised_race = is_race & efforts["race_policy"].eq("penalty")
    efforts["race_penalty_s"] = np.where(penalised_race, efforts["race_penalty_s"], 0.0)
    start_penalty, start_reason = _start_penalty(season, efforts["event_start"])
    applies = efforts["start_penalty_applies"].astype(bool)
    efforts["start_penalty_s"] = np.where(applies, start_penalty, 0.0)
    efforts["start_penalty_reason"] = start_reason.where(applies, "")
    efforts["manual_penalty_s"] = 0.0
    efforts["total_time_s"] = whole_ms(efforts["finish_time_s"] + efforts["race_penalty_s"]
                                       + efforts["start_penalty_s"])

    ok = efforts["status"].eq("ok")
    excluded_by_listing = efforts["listing"].eq("excluded")
    efforts.loc[ok & excluded_by_listing, ["status", "status_reason"]] = ["excluded", "event excluded in the Events tab"]
    race_out = ok & ~excluded_by_listing & is_race & efforts["race_policy"].eq("exclude")
    efforts.loc[race_out, "status"] = "excluded"
    efforts.loc[race_out, "status_reason"] = ("race event (" + efforts.loc[race_out, "race_reason"]
                                              + "): races do not count on stage " + efforts.loc[race_out, "stage"])
    course_out = efforts["status"].eq("ok") & ~fits
    efforts.loc[course_out, "status"] = "excluded"
    efforts.loc[course_out, "status_reason"] = not_the_course[course_out]

    segments = parsed.segments.rename(columns={"segment_time_s": "segment_time_s"})
    efforts = efforts.merge(segments, on=["event_id", "rider_id", "segment_id"], how="left")
    efforts["segment_time_s"] = whole_ms(efforts["segment_time_s"])
    efforts["source"] = "zwiftpower"
    efforts["event_id"] = efforts["event_id"].astype("Int64")
    efforts = _add_manual_results(season, efforts, overrides)
    _apply_dqs(efforts, overrides)
    efforts["is_best"] = mark_best(efforts)
    order = np.lexsort([sort_key(efforts[c]) for c in ("event_id", "event_start", "rider_id", "round_order")])
    return PreparedEfforts(efforts.take(order).reset_index(drop=True), problems)


def _add_manual_results(season: Season, efforts: pd.DataFrame, overrides: Overrides) -> pd.DataFrame:
    """A manual result replaces the rider's automatic efforts in that round (they stay listed, marked replaced)."""
    if not overrides.manual_results:
        return efforts
    rounds = rounds_frame(season).set_index("round_id")
    manual = pd.DataFrame([m.model_dump() for m in overrides.manual_results])
    replaced = efforts.set_index(["rider_id", "round_id"]).index.isin(
        pd.MultiIndex.from_frame(manual[["rider_id", "round_id"]])
    )
    efforts.loc[replaced & efforts["status"].eq("ok"), ["status", "status_reason"]] = [
        "excluded", "replaced by a manual result"
    ]
    rows = pd.DataFrame({
        "rider_id": manual["rider_id"].astype("int64"),
        "round_id": manual["round_id"].astype("string"),
        "finish_time_s": manual["time_s"].astype(float),
        "manual_penalty_s": manual["penalty_s"].astype(float),
        "race_penalty_s": 0.0,
        "start_penalty_s": 0.0,
        "status": "ok",
        "source": "manual: " + manual["source"],
        "listing": "manual",
    })
    rows["total_time_s"] = whole_ms(rows["finish_time_s"] + rows["manual_penalty_s"])
    for column in ("stage", "route", "terrain", "round_order", "segment_id", "closes"):
        rows[column] = rows["round_id"].map(rounds[column])
    # The rider's name as their results show it, else the registry's; the rest of the profile (gender, age,
    # team) comes from their real results in `rider_profiles`, never from a manual row.
    known = efforts.dropna(subset=["rider_name"]).drop_duplicates("rider_id", keep="last").set_index("rider_id")
    registry = pd.Series({r.rider_id: r.name for r in overrides.riders.values()}, dtype="string")
    rows["rider_name"] = rows["rider_id"].map(known["rider_name"]).fillna(rows["rider_id"].map(registry))
    combined = pd.concat([efforts, rows.reindex(columns=efforts.columns)], ignore_index=True)
    return combined.astype({"event_id": "Int64", "rider_id": "int64"})


def mark_best(efforts: pd.DataFrame) -> pd.Series:
    """The best effort per round and rider among usable efforts: fastest finish, then smaller total, then earliest
    (event start, then event id); on a full tie, the earlier row. One numpy lexsort over the key columns only."""
    usable = np.flatnonzero(efforts["status"].eq("ok").to_numpy(dtype=bool, na_value=False)
                            & efforts["finish_time_s"].notna().to_numpy())
    round_code = pd.factorize(efforts["round_id"].to_numpy()[usable])[0]
    rider = efforts["rider_id"].to_numpy(dtype=np.int64)[usable]
    keys = [sort_key(efforts[c])[usable] for c in ("event_id", "event_start", "total_time_s", "finish_time_s")]
    order = np.lexsort((*keys, rider, round_code))
    best = np.zeros(len(efforts), dtype=bool)
    best[usable[first_per_group(order, rider, round_code)]] = True
    return pd.Series(best, index=efforts.index)

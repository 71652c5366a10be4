"""The schema of every tab: declared once, used by scoring, every workbook backend, the tests and the docs.

Output tabs are Looker-ready: one header row, stable snake_case names, one type per column, long format.
Organiser tabs are the ones people type into; tdz creates them with their header and never overwrites them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

Grid = list[list[str]]
"""A tab as text: the header row first, then data rows, every cell a string ('' when empty)."""


class TypedCell(str):
    """A cell the spreadsheet holds as a number, date, time or duration rather than as text: the string is how the
    cell reads, `value` what the file stores (int, float, bool, datetime, date, time, timedelta, or an
    `UnsavedFormula`). tdz creates organiser columns as text; a typed cell is what a tab made by hand, or a pasted
    cell, leaves, and the organiser tabs' reader decides what the organiser meant by it."""

    value: object

    def __new__(cls, text: str, value: object) -> TypedCell:
        cell = super().__new__(cls, text)
        cell.value = value
        return cell

    def __getnewargs__(self) -> tuple[str, object]:
        return str(self), self.value


class UnsavedFormula(str):
    """A formula whose result the file does not hold (written by a program that does not compute formulas)."""


def header_key(name: str) -> str:
    """A header cell as the column name it stands for: `Rider ID ` → `rider_id`."""
    return name.strip().lower().replace(" ", "_")


ColumnType = Literal["string", "int", "float", "seconds", "bool", "datetime"]
"""`seconds` is a time in seconds (a float; every `*_s` column): Looker Studio's Duration type shows it as a clock."""

PANDAS_DTYPES: dict[ColumnType, str] = {
    "string": "string",
    "int": "Int64",
    "float": "float64",
    "seconds": "float64",
    "bool": "boolean",
    "datetime": "datetime64[ns, UTC]",
}
LOOKER_TYPES: dict[ColumnType, str] = {
    "string": "Text",
    "int": "Number",
    "float": "Number",
    "seconds": "Duration (sec.)",
    "bool": "Boolean",
    "datetime": "Date & Time",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    meaning: str
    clock_of: str = ""
    """For a text column: the `seconds` column it shows as `h:mm:ss.s` (filled by `with_clock_columns`)."""


@dataclass(frozen=True)
class Table:
    name: str
    grain: str
    columns: tuple[Column, ...]
    scoring: tuple[str, ...] = ("points", "time")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def clock_columns(self) -> dict[str, str]:
        """Each formatted time column → the seconds column it shows."""
        return {c.name: c.clock_of for c in self.columns if c.clock_of}

    def empty(self) -> pd.DataFrame:
        return conform(self, pd.DataFrame(columns=self.names))


@dataclass(frozen=True)
class OrganiserTab:
    name: str
    purpose: str
    columns: tuple[Column, ...]
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    def row_for(self, header: list[str], values: dict[str, str]) -> list[str]:
        """A row of `values` (column name → text) laid out under the tab's header as the organiser has it:
        columns in their order, names matched as `header_key` does; columns tdz does not know left empty."""
        keys = [header_key(h) for h in header] if any(str(h).strip() for h in header) else self.header
        return [values.get(key, "") for key in keys]


def conform(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Select the table's columns in order and cast each to its declared type (missing columns are an error)."""
    missing = [c for c in table.names if c not in frame.columns]
    if missing:
        raise KeyError(f"table {table.name!r} is missing columns {missing}")
    out = frame.loc[:, table.names]  # copy-on-write: the cast columns below are new, the others are shared
    for col in table.columns:
        target = PANDAS_DTYPES[col.type]
        series = out[col.name]
        if col.type == "datetime":
            out[col.name] = pd.to_datetime(series, utc=True).astype(target)
        elif col.type == "string" and isinstance(series.dtype, pd.CategoricalDtype):
            # Big tables keep repeated text (pool, round, rider name) as categories of text: same cells, and no
            # millions of string objects to build.
            if not series.cat.categories.empty and series.cat.categories.dtype != target:
                out[col.name] = series.cat.rename_categories(series.cat.categories.astype("string"))
        elif str(series.dtype) != target:
            out[col.name] = series.astype(target)
    return out.reset_index(drop=True)


def clock(seconds: float) -> str:
    """A time as `h:mm:ss.s`, tenths rounded (1350.657 → `0:22:30.7`): the one format of every time riders read."""
    tenths = int(round(seconds * 10))
    return f"{tenths // 36000}:{tenths // 600 % 60:02d}:{tenths // 10 % 60:02d}.{tenths % 10}"


def clock_column(seconds: pd.Series) -> pd.Series:
    """`clock` of every value, as text categories (empty where there is no time). Each distinct time is formatted
    once: a time repeats in every pool of its rider, and round results run to millions of rows."""
    codes, uniques = pd.factorize(seconds.astype("float64"))
    label_codes, labels = pd.factorize(pd.Index([clock(v) for v in uniques], dtype=object))
    mapped = np.where(codes >= 0, label_codes[np.maximum(codes, 0)], -1) if len(uniques) else codes
    return pd.Series(pd.Categorical.from_codes(mapped, pd.Index(labels, dtype="string")), index=seconds.index)


def with_clock_columns(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the table's formatted time columns filled from their seconds columns."""
    columns = table.clock_columns
    return frame.assign(**{name: clock_column(frame[source]) for name, source in columns.items()}) if columns else frame


def _c(name: str, type_: ColumnType, meaning: str) -> Column:
    return Column(name, type_, meaning)


def _clock(name: str, of: str) -> Column:
    return Column(name, "string", f"`{of}` as h:mm:ss.s text (tenths rounded), for tables that show a time.", of)


AS_OF = _c("as_of", "datetime", "Start time of the newest event included: unchanged inputs give unchanged tabs.")
SEASON = _c("season_id", "string", "Season id from the season file.")
RIDER = (
    _c("rider_id", "int", "Zwift rider id (ZwiftPower `zwid`)."),
    _c("rider_name", "string", "Display name, HTML entities decoded."),
)

POOL_DIMENSION_COLUMNS = (
    _c("pool_gender", "string", "Gender of the pool (M/F), empty when the pool is not split by gender."),
    _c("pool_power_category", "string", "Power category of the pool, empty when not split."),
    _c("pool_age_category", "string", "Age category of the pool, empty when not split."),
)
"""The pool's dimensions beside its name, so a report filters pools by gender, category and age with three pickers."""

PENALTIES = (
    _c("race_penalty_s", "seconds", "Seconds added because the event is a race (stages that accept races with a penalty)."),
    _c("race_reason", "string", "Why the event is a race: Zwift event type RACE, the name matching the season's pattern, or both; empty when it is not a race."),
    _c("start_penalty_s", "seconds", "Seconds added for the event's start time (the season's start-time penalty)."),
    _c("start_penalty_reason", "string", "When the event started and the rule it hit; empty when no start-time penalty."),
    _c("manual_penalty_s", "seconds", "Penalty stated on a Manual results row; 0 otherwise."),
)
"""Each penalty apart, with the reason a rider reads: on the efforts and on the stage results."""

EFFORTS = Table(
    "efforts",
    "one row per attempt: a rider's result in one event, assigned to one round or stage course",
    (
        SEASON,
        _c("round_id", "string", "Round (points) or stage course (time) the effort counts for."),
        _c("stage", "string", "Stage the course belongs to (equals round_id for a CTT round)."),
        _c("round_order", "int", "Place of the round in the season (1, 2, … 10): sort rounds by this, not by round_id."),
        _c("event_id", "int", "Zwift event id (ZwiftPower `zid`)."),
        _c("event_name", "string", "Event title."),
        _c("event_start", "datetime", "Event start, UTC."),
        *RIDER,
        _c("pen", "string", "Start pen A–E."),
        _c("pen_route", "string", "Route the rider's pen rode, from Zwift's event details; empty when they do not say (then the course's pen letter decided)."),
        _c("finish_time_s", "seconds", "Finish time in seconds (the season's finish_time choice)."),
        _c("segment_time_s", "seconds", "Time on the round's segment, seconds; empty when none."),
        _c("avg_power_w", "float", "Average power, watts; empty when not reported."),
        _c("avg_wkg", "float", "Average W/kg; empty when not reported."),
        *PENALTIES,
        _c("total_time_s", "seconds", "finish_time_s + race_penalty_s + start_penalty_s + manual_penalty_s."),
        _c("is_best", "bool", "This is the rider's best effort of the round."),
        _c("is_pb", "bool", "Faster than the rider's best so far on the same route (points scoring)."),
        _c("status", "string", "ok, dnf, dq or excluded."),
        _c("status_reason", "string", "Why an effort is dq or excluded; empty otherwise."),
        _clock("total_time", "total_time_s"),
        AS_OF,
    ),
)

ROUND_RESULTS = Table(
    "round_results",
    "one row per pool, round and rider with a best effort in that round",
    (
        SEASON,
        _c("pool", "string", "Pool name, e.g. overall, gender=F, 'gender=M, power_category=B' (dimensions joined by a comma)."),
        *POOL_DIMENSION_COLUMNS,
        _c("round_id", "string", "Round id."),
        _c("round_order", "int", "Place of the round in the season (1, 2, … 10): sort rounds by this, not by round_id."),
        _c("route", "string", "Route of the round."),
        _c("terrain", "string", "flat, rolling or mountain."),
        *RIDER,
        _c("event_id", "int", "Event of the best effort."),
        _c("finish_time_s", "seconds", "Best effort time, seconds."),
        _clock("finish_time", "finish_time_s"),
        _c("position", "int", "Place in the round within the pool (equal times share)."),
        _c("segment_time_s", "seconds", "Segment time of the best effort, seconds; empty when none."),
        _c("segment_place", "int", "Segment place within the pool; empty when no segment time."),
        _c("segment_bonus", "float", "Points deducted for the segment place."),
        _c("round_score", "float", "position − segment_bonus."),
        _c("counted", "bool", "This round score counts towards the total (terrain quota)."),
        _c("round_status", "string", "provisional until the window closed plus the settle time, then final."),
        AS_OF,
    ),
    scoring=("points",),
)

STANDINGS = Table(
    "standings",
    "one row per pool and rider",
    (
        SEASON,
        _c("pool", "string", "Pool name; `overall` holds every rider."),
        *POOL_DIMENSION_COLUMNS,
        _c("place", "int", "Place in the pool: more counted rounds first, then lowest total."),
        *RIDER,
        _c("gender", "string", "M or F, from the latest result."),
        _c("power_category", "string", "Power category used in this pool (open, or women's in women's pools)."),
        _c("age_category", "string", "Age category (first value seen)."),
        _c("rounds_ridden", "int", "Rounds with a best effort."),
        _c("rounds_counted", "int", "Rounds counted under the terrain quota."),
        _c("round_score_sum", "float", "Sum of counted round scores."),
        _c("pb_bonus", "float", "Points deducted for PBs (same in every pool)."),
        _c("total", "float", "base_total + round_score_sum − pb_bonus; lowest wins."),
        _c("standings_status", "string", "provisional until every round is final."),
        AS_OF,
    ),
    scoring=("points",),
)

STAGE_RESULTS = Table(
    "stage_results",
    "one row per stage course and rider with a result",
    (
        SEASON,
        _c("stage", "string", "Stage."),
        _c("round_id", "string", "Stage course id (e.g. 3.1)."),
        _c("round_order", "int", "Place of the round in the season (1, 2, … 10): sort rounds by this, not by round_id."),
        _c("route", "string", "Route of the course."),
        *RIDER,
        _c("rider_group", "string", "Handicap group from the Rider registry tab; empty when none."),
        _c("event_id", "int", "Event of the best (fastest raw) effort."),
        _c("raw_time_s", "seconds", "Fastest raw time, seconds."),
        *PENALTIES,
        _c("total_time_s", "seconds", "raw_time_s + race_penalty_s + start_penalty_s + manual_penalty_s."),
        _c("place", "int", "Place in the stage course by total time (equal totals share)."),
        _c("group_place", "int", "Place within the rider group's letter."),
        _clock("total_time", "total_time_s"),
        _c("source", "string", "zwiftpower, or the source noted on a manual result."),
        _c("stage_status", "string", "provisional or final."),
        AS_OF,
    ),
    scoring=("time",),
)

GC = Table(
    "gc",
    "one row per general classification and rider in it",
    (
        SEASON,
        _c("classification", "string", "overall, group A, group B…, or women."),
        _c("classification_group", "string", "Group letter of the classification (A, B…), empty when not split by group."),
        _c("classification_gender", "string", "F for the women's classification, empty when not split by gender."),
        _c("place", "int", "Place; empty for riders listed unranked (DNS)."),
        *RIDER,
        _c("rider_group", "string", "Handicap group."),
        _c("gender", "string", "M or F."),
        _c("stages_completed", "int", "Stage courses with a result."),
        _c("stage_time_s", "seconds", "Sum of stage total times, seconds."),
        _c("handicap_s", "seconds", "Handicap of the rider's group, added once."),
        _c("gc_time_s", "seconds", "stage_time_s + handicap_s."),
        _clock("gc_time", "gc_time_s"),
        _c("gap_s", "seconds", "Seconds behind the leader of this classification."),
        _clock("gap", "gap_s"),
        _c("gc_status", "string", "ranked, or dns when the rider missed a stage that has results."),
        _c("classification_status", "string", "provisional until the last stage is final."),
        AS_OF,
    ),
    scoring=("time",),
)

RIDERS = Table(
    "riders",
    "one row per rider seen in the season's results",
    (
        SEASON,
        *RIDER,
        _c("gender", "string", "M or F, from the latest result."),
        _c("age_category", "string", "First age category seen."),
        _c("team", "string", "Team from the latest result."),
        _c("country", "string", "Country code from the latest result."),
        _c("power_category", "string", "Open power category from max watts and max W/kg."),
        _c("power_category_women", "string", "Women's power category (women only)."),
        _c("max_avg_power_w", "float", "Highest average watts over the season's efforts."),
        _c("max_avg_wkg", "float", "Highest average W/kg over the season's efforts."),
        _c("rider_group", "string", "Handicap group from the Rider registry tab."),
        _c("registered", "bool", "Listed in the Rider registry tab."),
        _c("efforts", "int", "Attempts in the season."),
        _c("rounds_ridden", "int", "Rounds or stage courses with a result."),
        AS_OF,
    ),
)

PROBLEMS = Table(
    "problems",
    "one row per refused input",
    (
        _c("source", "string", "Tab name, zwiftpower, zwift or season."),
        _c("event_id", "int", "Event, when the problem is in a payload."),
        _c("row", "int", "Row number in the tab or payload."),
        _c("column", "string", "Column or field."),
        _c("value", "string", "The value refused."),
        _c("why", "string", "Why it was refused."),
    ),
)

ABOUT = Table(
    "about",
    "one row per fact about this publish",
    (
        _c("key", "string", "season_id, season_name, as_of, input_hash, tdz_version…"),
        _c("value", "string", "Its value as text."),
    ),
)

OUTPUT_TABLES: dict[str, Table] = {
    t.name: t for t in (EFFORTS, ROUND_RESULTS, STANDINGS, STAGE_RESULTS, GC, RIDERS, PROBLEMS, ABOUT)
}


def output_tables_for(kind: str) -> list[Table]:
    """The output tabs a season of this scoring kind publishes, in tab order."""
    return [t for t in OUTPUT_TABLES.values() if kind in t.scoring]


EVENTS_TAB = OrganiserTab(
    "Events",
    "Which ZwiftPower events count for which round or stage.",
    (
        _c("event_id", "string", "Zwift event id (the number in the ZwiftPower event URL)."),
        _c("round", "string", "Round or stage course id from the season file (e.g. 3 or 3.1)."),
        _c("status", "string", "confirmed, suggested (found by discovery) or excluded."),
        _c("note", "string", "Free text; for discovery, the candidate's score."),
    ),
    choices={"status": ("confirmed", "suggested", "excluded")},
)
RIDERS_TAB = OrganiserTab(
    "Rider registry",
    "The club's rider registry: group, gender and category overrides, guests.",
    (
        _c("rider_id", "string", "Zwift rider id."),
        _c("name", "string", "Name (for the organiser's eyes; results use ZwiftPower's)."),
        _c("group", "string", "Handicap group, e.g. A1 or B3 (one the season file or the Handicaps tab has)."),
        _c("gender", "string", "M or F to override ZwiftPower; empty to keep it."),
        _c("category", "string", "Power category override; empty to derive it."),
        _c("guest", "string", "yes for a guest (shown in stage tables, not in GC)."),
    ),
    choices={"gender": ("M", "F"), "guest": ("yes", "no")},
)
DQ_TAB = OrganiserTab(
    "DQ",
    "Disqualifications: one row per rider and scope.",
    (
        _c("rider_id", "string", "Zwift rider id."),
        _c("round", "string", "Round or stage id; empty with no event id = the whole season."),
        _c("event_id", "string", "One event only; empty for the whole round."),
        _c("reason", "string", "Why (shown to riders)."),
        _c("set_by", "string", "Who decided (kept on this tab; the output tabs show riders the reason only)."),
    ),
    choices={"reason": ("weight not verified", "power data", "wrong route", "drafting", "other")},
)
HANDICAPS_TAB = OrganiserTab(
    "Handicaps",
    "Handicap seconds by group, or for one rider; overrides the season file.",
    (
        _c("group", "string", "Rider group (e.g. A1); empty when the row is for one rider."),
        _c("rider_id", "string", "One rider's id; empty for a group."),
        _c("seconds", "string", "Handicap in seconds (or m:ss), 0 to 2 hours."),
    ),
)
MANUAL_RESULTS_TAB = OrganiserTab(
    "Manual results",
    "Results recorded elsewhere; they replace the automatic result of the rider in that round or stage.",
    (
        _c("rider_id", "string", "Zwift rider id."),
        _c("round", "string", "Round or stage course id."),
        _c("time", "string", "Finish time: m:ss, h:mm:ss or seconds, to the millisecond (1 min to 12 h)."),
        _c("penalty", "string", "Penalty seconds (or m:ss) to add, up to 1 hour; empty for none."),
        _c("source", "string", "Where the time comes from (e.g. Strava link)."),
    ),
)
ORGANISER_TABS: dict[str, OrganiserTab] = {
    t.name: t for t in (EVENTS_TAB, RIDERS_TAB, DQ_TAB, HANDICAPS_TAB, MANUAL_RESULTS_TAB)
}

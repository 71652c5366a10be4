"""Wire format → typed frames. (Schema declared here; the parser itself is being written.)"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

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
    "route_id": "Int64",  # Zwift routeId (often > 2**31)
    "distance_m": "float64",
    "pens": "string",  # subgroup labels joined, e.g. "A,B,C"
}


def empty_frame(dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})


@dataclass
class ParsedArchive:
    """Everything scoring needs from the raw archive, typed, plus what could not be read."""

    efforts: pd.DataFrame  # EFFORT_DTYPES: one row per result row (every pen, every status)
    segments: pd.DataFrame  # SEGMENT_DTYPES: one row per rider, event and segment with a time
    events: pd.DataFrame  # EVENT_DTYPES: one row per archived event
    problems: list[Problem] = field(default_factory=list)

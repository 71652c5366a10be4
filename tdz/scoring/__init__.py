"""Scoring: pure functions from the season, parsed results and organiser overrides to every output tab.

The season file's `scoring.kind` picks the rules (`points` or `time`); nothing here names a series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from tdz.ingest.parse import ParsedArchive
from tdz.problems import Problem
from tdz.publish.tables import (
    OUTPUT_TABLES,
    conform,
    output_tables_for,
    with_clock_columns,
)
from tdz.scoring.efforts import incomplete_rounds, prepare_efforts, round_status
from tdz.scoring.organiser import Overrides
from tdz.scoring.points import score_points
from tdz.scoring.riders import rider_profiles
from tdz.scoring.times import score_times
from tdz.season import PointsScoring, Season


@dataclass
class ScoredSeason:
    tables: dict[str, pd.DataFrame]
    problems: list[Problem]
    as_of: pd.Timestamp | None


def tdz_version() -> str:
    try:
        return version("tdz")
    except PackageNotFoundError:
        return "unknown"


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    rows = [p.model_dump() for p in problems]
    frame = pd.DataFrame(rows, columns=OUTPUT_TABLES["problems"].names)
    return conform(OUTPUT_TABLES["problems"], frame)


def score_season(
    season: Season,
    parsed: ParsedArchive,
    overrides: Overrides,
    now: datetime,
    problems: list[Problem] | None = None,
    input_hash: str = "",
) -> ScoredSeason:
    """Every output tab of the season. `problems` (from parsing and organiser tabs) are carried into the tab."""
    all_problems = list(problems or []) + list(parsed.problems)
    prepared = prepare_efforts(season, parsed, overrides)
    all_problems += prepared.problems
    efforts = prepared.efforts
    categories = season.scoring.power_categories if isinstance(season.scoring, PointsScoring) else None
    profiles = rider_profiles(efforts, overrides, categories)

    if isinstance(season.scoring, PointsScoring):
        produced = score_points(season, efforts, profiles)
    else:
        produced, handicap_problems = score_times(season, efforts, profiles, overrides)
        all_problems += handicap_problems
    efforts = produced["efforts"]

    real = efforts[efforts["source"].eq("zwiftpower")]
    as_of = real["event_start"].max() if len(real) else None
    as_of = None if pd.isna(as_of) else as_of
    statuses = round_status(season, now, incomplete_rounds(parsed, efforts))
    all_final = all(s == "final" for s in statuses.values())

    def finish(name: str, frame: pd.DataFrame, **columns: object) -> pd.DataFrame:
        # Constant text as a one-category column: a million copies of one string cost seconds to type-check.
        constants = {k: pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [v]) if isinstance(v, str)
                     else v for k, v in {"season_id": season.id, **columns}.items()}
        if "round_order" in frame:  # counted from 0 inside scoring, from 1 in the tabs
            constants["round_order"] = frame["round_order"] + 1
        frame = frame.assign(as_of=as_of, **constants)
        return conform(OUTPUT_TABLES[name], with_clock_columns(OUTPUT_TABLES[name], frame))

    tables: dict[str, pd.DataFrame] = {}
    tables["efforts"] = finish("efforts", efforts)
    if "round_results" in produced:
        results = produced["round_results"]
        results = results.assign(round_status=results["round_id"].map(statuses).astype("category"))
        tables["round_results"] = finish("round_results", results)
        standings = produced["standings"].merge(
            profiles[["rider_name", "gender", "age_category"]], left_on="rider_id", right_index=True, how="left")
        tables["standings"] = finish("standings", standings,
                                     standings_status="final" if all_final else "provisional")
    if "stage_results" in produced:
        stages = produced["stage_results"]
        stages = stages.assign(raw_time_s=stages["finish_time_s"],  # names as in every other table: the profile's
                               rider_name=stages["rider_id"].map(profiles["rider_name"]),
                               stage_status=stages["round_id"].map(statuses))
        tables["stage_results"] = finish("stage_results", stages)
        tables["gc"] = finish("gc", produced["gc"], classification_status="final" if all_final else "provisional")

    riders = profiles.reset_index()
    counts = efforts[efforts["source"].eq("zwiftpower")].groupby("rider_id").agg(
        efforts=("event_id", "nunique"))
    ridden = efforts[efforts["is_best"]].groupby("rider_id").agg(rounds_ridden=("round_id", "nunique"))
    riders = riders.merge(counts, on="rider_id", how="left").merge(ridden, on="rider_id", how="left")
    riders[["efforts", "rounds_ridden"]] = riders[["efforts", "rounds_ridden"]].fillna(0)
    tables["riders"] = finish("riders", riders)

    tables["problems"] = problems_frame(all_problems)
    about = [
        ("season_id", season.id),
        ("season_name", season.season.name),
        ("scoring", season.scoring.kind),
        ("as_of", "" if as_of is None else as_of.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("rounds_final", str(sum(s == "final" for s in statuses.values()))),
        ("rounds", str(len(season.rounds))),
        ("input_hash", input_hash),
        ("tdz_version", tdz_version()),
    ]
    tables["about"] = conform(OUTPUT_TABLES["about"], pd.DataFrame(about, columns=["key", "value"]))
    ordered = {t.name: tables[t.name] for t in output_tables_for(season.scoring.kind)}
    return ScoredSeason(tables=ordered, problems=all_problems, as_of=as_of)

"""Time scoring (the KWCC way): stage tables by raw time plus penalties, GC with a handicap added once.

Every number comes from `TimeScoring` in the season file and the Handicaps tab.
"""

from __future__ import annotations

import pandas as pd

from tdz.problems import Problem
from tdz.publish.tables import RIDERS_TAB
from tdz.scoring.organiser import Overrides
from tdz.scoring.ranking import shared_place
from tdz.scoring.tiebreaks import place_with_tie_breaks
from tdz.season import Season, TieBreak, TimeScoring


def stage_results(best: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """One row per stage course and rider with a best effort: place overall and within the group letter."""
    table = best.merge(profiles[["rider_group"]], left_on="rider_id", right_index=True, how="left")
    table["group_letter"] = table["rider_group"].astype("string").str[0]
    table["place"] = shared_place(table, ["round_id"], ["total_time_s"], [True])
    table["group_place"] = shared_place(table, ["round_id", "group_letter"], ["total_time_s"], [True])
    return table.sort_values(["round_order", "place", "rider_id"], kind="stable").reset_index(drop=True)


def handicaps(season: Season, profiles: pd.DataFrame, overrides: Overrides) -> tuple[pd.Series, list[Problem]]:
    """Handicap seconds per GC rider: the rider's own row, else the group's row, else the season file."""
    scoring = season.scoring
    assert isinstance(scoring, TimeScoring)
    by_group = dict(scoring.handicaps)
    by_group.update({h.group: h.seconds for h in overrides.handicaps if h.group})
    by_rider = {h.rider_id: h.seconds for h in overrides.handicaps if h.rider_id is not None}
    groups = profiles["rider_group"]
    seconds = groups.map(by_group).astype(float)
    seconds = pd.Series(profiles.index.map(by_rider), index=profiles.index, dtype=float).fillna(seconds)
    problems = [
        Problem(source=RIDERS_TAB.name, row=overrides.riders[rider_id].row if rider_id in overrides.riders else None,
                column="group", value=str(group),
                why="no handicap for this group in the season file or the Handicaps tab; counted as 0")
        for rider_id, group in groups[seconds.isna() & groups.notna()].items()
    ]
    return seconds.fillna(0.0), problems


def general_classification(
    stages: pd.DataFrame, profiles: pd.DataFrame, handicap_s: pd.Series, tie_breaks: tuple[TieBreak, ...] = ("shared",)
) -> pd.DataFrame:
    """One row per classification and GC rider: overall, each group letter and women.

    Only riders with a group who are not guests are in GC. Riders who completed every stage course that has
    results are ranked by stage time plus handicap; the others are listed unranked as DNS.
    """
    eligible = profiles[profiles["rider_group"].notna() & ~profiles["guest"].astype(bool)]
    gc_stages = stages[stages["rider_id"].isin(eligible.index)]
    courses_with_results = stages["round_id"].nunique()
    totals = gc_stages.groupby("rider_id").agg(stages_completed=("round_id", "nunique"),
                                              stage_time_s=("total_time_s", "sum"))
    riders = eligible.join(totals, how="inner")
    riders["handicap_s"] = handicap_s.reindex(riders.index).fillna(0.0)
    riders["stage_time_s"] = riders["stage_time_s"].round(3)
    riders["gc_time_s"] = (riders["stage_time_s"] + riders["handicap_s"]).round(3)
    riders["gc_status"] = (riders["stages_completed"] == courses_with_results).map({True: "ranked", False: "dns"})
    riders = riders.reset_index()
    parts = [riders.assign(classification="overall", classification_group=None, classification_gender=None)]
    letters = riders["rider_group"].astype("string").str[0]
    for letter in sorted(letters.dropna().unique()):
        parts.append(riders[letters == letter].assign(classification=f"group {letter}", classification_group=letter,
                                                      classification_gender=None))
    parts.append(riders[riders["gender"].eq("F").fillna(False).astype(bool)].assign(
        classification="women", classification_group=None, classification_gender="F"))
    table = pd.concat(parts, ignore_index=True)
    ranked = table["gc_status"].eq("ranked")
    round_places = table.loc[ranked, ["classification", "rider_id"]].merge(
        stages[["rider_id", "round_order", "place"]].rename(columns={"place": "round_place"}), on="rider_id")
    table["place"] = place_with_tie_breaks(table[ranked], ["classification"], ["gc_time_s"], [True], round_places,
                                           tie_breaks).reindex(table.index)
    leader = table[ranked].groupby("classification")["gc_time_s"].min()
    table["gap_s"] = (table["gc_time_s"] - table["classification"].map(leader)).where(ranked).round(3)
    order = {"overall": 0, "women": 2}
    table["classification_order"] = table["classification"].map(lambda c: order.get(c, 1))
    table["unranked"] = ~ranked
    return table.sort_values(["classification_order", "classification", "unranked", "place", "gc_time_s",
                              "rider_id"], kind="stable").reset_index(drop=True)


def score_times(
    season: Season, efforts: pd.DataFrame, profiles: pd.DataFrame, overrides: Overrides
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    best = efforts[efforts["is_best"]]
    stages = stage_results(best, profiles)
    handicap_s, problems = handicaps(season, profiles, overrides)
    gc = general_classification(stages, profiles, handicap_s, season.scoring.tie_breaks)
    efforts = efforts.assign(is_pb=False)
    return {"efforts": efforts, "stage_results": stages, "gc": gc}, problems

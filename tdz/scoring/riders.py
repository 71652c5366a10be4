"""Rider profiles: who a rider is (latest result), their age category (first seen) and power category."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tdz.scoring.organiser import Overrides
from tdz.scoring.ranking import sort_key
from tdz.season import PowerCategories, PowerCategory


def _category(max_watts: pd.Series, max_wkg: pd.Series, thresholds: tuple[PowerCategory, ...], fallback: str) -> pd.Series:
    if not thresholds:
        return pd.Series(fallback, index=max_watts.index, dtype="string")
    watts = max_watts.fillna(0).to_numpy()
    wkg = max_wkg.fillna(0).to_numpy()
    conditions = [(watts >= t.min_watts) & (wkg >= t.min_wkg) for t in thresholds]
    return pd.Series(np.select(conditions, [t.category for t in thresholds], fallback), index=max_watts.index,
                     dtype="string")


def rider_profiles(efforts: pd.DataFrame, overrides: Overrides, categories: PowerCategories | None) -> pd.DataFrame:
    """One row per rider in `efforts`, indexed by rider_id.

    Name, gender, team and country come from the latest result; age category is the first non-empty value by
    event start; max watts and W/kg are taken separately over every effort, disqualified ones too (a DQ must never
    move a rider down a category). The Rider registry tab overrides gender and category and adds group, guest and
    registration.
    """
    # Row numbers in event order, then one gather per column: no sort of the whole efforts frame.
    real = np.flatnonzero(efforts["source"].eq("zwiftpower").to_numpy(dtype=bool, na_value=False))
    rider = efforts["rider_id"].to_numpy(dtype=np.int64)
    by_start = real[np.lexsort((sort_key(efforts["event_id"])[real], sort_key(efforts["event_start"])[real]))]
    latest = pd.Series(by_start).groupby(rider[by_start]).last()
    profile = efforts[["rider_name", "gender", "team", "country"]].take(latest.to_numpy())
    profile.index = pd.Index(latest.index.to_numpy(dtype=np.int64), name="rider_id")
    with_age = by_start[efforts["age_category"].notna().to_numpy()[by_start]]
    first_age = pd.Series(with_age).groupby(rider[with_age]).first()
    profile["age_category"] = efforts["age_category"].take(first_age.to_numpy()).set_axis(first_age.index).reindex(
        profile.index).astype("string")
    for column in ("avg_power_w", "avg_wkg"):
        values = efforts[column].to_numpy(dtype=float, na_value=np.nan)[real]
        profile[f"max_{column}"] = pd.Series(values).groupby(rider[real]).max().reindex(profile.index)

    manual_only = efforts.loc[~efforts["rider_id"].isin(profile.index), ["rider_id", "rider_name"]]
    if len(manual_only):
        extra = manual_only.drop_duplicates("rider_id").set_index("rider_id")
        profile = pd.concat([profile, extra.reindex(columns=profile.columns)])

    registry = pd.DataFrame(
        [(r.rider_id, r.group, r.gender, r.category, r.guest) for r in overrides.riders.values()],
        columns=["rider_id", "rider_group", "gender_override", "category_override", "guest"],
    ).set_index("rider_id")
    profile = profile.join(registry, how="left")
    profile["registered"] = profile.index.isin(registry.index)
    profile["guest"] = profile["guest"].astype("boolean").fillna(False)
    profile["gender"] = profile["gender_override"].astype("string").fillna(profile["gender"].astype("string"))

    if categories is not None:
        profile["power_category"] = _category(profile["max_avg_power_w"], profile["max_avg_wkg"], categories.open,
                                              categories.fallback)
        women = _category(profile["max_avg_power_w"], profile["max_avg_wkg"], categories.women, categories.fallback)
        profile["power_category_women"] = women.where(profile["gender"].eq("F"), pd.NA).astype("string")
        override = profile["category_override"].astype("string")
        profile["power_category"] = override.fillna(profile["power_category"])
        profile["power_category_women"] = override.where(profile["gender"].eq("F")).fillna(
            profile["power_category_women"])
    else:
        profile["power_category"] = pd.NA
        profile["power_category_women"] = pd.NA
    profile.index.name = "rider_id"
    return profile.drop(columns=["gender_override", "category_override"]).sort_index()

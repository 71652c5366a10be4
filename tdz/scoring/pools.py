"""Pools (overall, gender, power category, age category and their combinations): who is in which pool.

Pools are numbered once, in output order (the season's pool list, then pool name), so the ranking steps can work
on integer pool numbers and build the pool name column only at the end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POOL_DIMENSIONS = ("gender", "power_category", "age_category")
POOL_SEPARATOR = ", "  # not "+": age categories such as 50+ hold one


def _codes(values: pd.Series, categories: list[str]) -> np.ndarray:
    """Codes of `values` in `categories` (-1 for a missing value)."""
    return pd.Categorical(values.astype(object), categories=categories).codes.astype(np.int64)


def _categories(*columns: pd.Series) -> list[str]:
    return sorted({v for column in columns for v in column.dropna().astype(str).unique()})


def pool_membership(profiles: pd.DataFrame, pools: tuple[str, ...]) -> pd.DataFrame:
    """One row per pool and rider in it (grain: pool × rider), ordered by pool number, then rider id.

    Columns: `pool_index` (the pool's number: season's pool order, then name), `pool` (its name), `rider_id`,
    `power_category` (the category used in that pool) and `pool_gender` / `pool_power_category` /
    `pool_age_category` (the pool's dimension values, empty when the pool is not split by it). Text columns are
    categoricals.

    Pools split by gender use the women's power category for women; every other pool uses the open category.
    A rider lacking a pool's dimension (no age category, say) is in no pool of that dimension.
    """
    riders = profiles.reset_index()
    category_names = _categories(riders["power_category"], riders["power_category_women"])
    names = {
        "gender": _categories(riders["gender"]),
        "power_category": category_names,
        "age_category": _categories(riders["age_category"]),
    }
    gender = _codes(riders["gender"], names["gender"])
    open_category = _codes(riders["power_category"], category_names)
    women_category = _codes(riders["power_category_women"], category_names)
    age = _codes(riders["age_category"], names["age_category"])
    is_woman = riders["gender"].eq("F").fillna(False).to_numpy(dtype=bool)
    rider_ids = riders["rider_id"].to_numpy(dtype=np.int64)

    parts: list[dict[str, np.ndarray]] = []
    pool_names: list[tuple[int, str]] = []  # (season's pool order, name), indexed by the part's local pool codes
    for pool_order, pool in enumerate(pools):
        dims = [] if pool == "overall" else pool.split("+")
        category = np.where(is_woman & ("gender" in dims), women_category, open_category)
        values = {"gender": gender, "power_category": category, "age_category": age}
        keep = np.ones(len(riders), dtype=bool)
        combo = np.zeros(len(riders), dtype=np.int64)
        for dim in dims:
            keep &= values[dim] >= 0
            combo = combo * (len(names[dim]) + 1) + values[dim]
        # One pool per distinct combination of dimension values; its name is built once, not once per rider.
        _, first, local = np.unique(combo[keep], return_index=True, return_inverse=True)
        first_rows = np.flatnonzero(keep)[first]
        part_names = [
            "overall" if not dims else POOL_SEPARATOR.join(f"{d}={names[d][values[d][row]]}" for d in dims)
            for row in first_rows
        ]
        offset = len(pool_names)
        pool_names += [(pool_order, name) for name in part_names]
        part = {"pool": local.reshape(-1) + offset, "rider_id": rider_ids[keep], "power_category": category[keep]}
        for dim in POOL_DIMENSIONS:
            part[f"pool_{dim}"] = values[dim][keep] if dim in dims else np.full(int(keep.sum()), -1)
        parts.append(part)

    # Number the pools in output order (season's pool list, then name) and renumber the rows accordingly.
    output_order = sorted(range(len(pool_names)), key=lambda i: pool_names[i])
    renumber = np.empty(len(pool_names), dtype=np.int64)
    renumber[output_order] = np.arange(len(pool_names))
    column = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]} if parts else {}
    if not parts or not len(column["pool"]):
        empty = pd.DataFrame({"pool_index": pd.Series(dtype=np.int64), "rider_id": pd.Series(dtype=np.int64)})
        for key in ("pool", "power_category", *(f"pool_{d}" for d in POOL_DIMENSIONS)):
            empty[key] = pd.Categorical([], categories=[])
        return empty
    pool_index = renumber[column["pool"]]
    order = np.lexsort((column["rider_id"], pool_index))
    return pd.DataFrame({
        "pool_index": pool_index[order],
        "pool": pd.Categorical.from_codes(pool_index[order], [pool_names[i][1] for i in output_order]),
        "rider_id": column["rider_id"][order],
        "power_category": pd.Categorical.from_codes(column["power_category"][order], category_names),
        **{f"pool_{dim}": pd.Categorical.from_codes(column[f"pool_{dim}"][order], names[dim])
           for dim in POOL_DIMENSIONS},
    })



def pool_dimensions(membership: pd.DataFrame, pool_index: np.ndarray) -> dict[str, pd.Categorical]:
    """`pool_gender`, `pool_power_category` and `pool_age_category` of each pool number in `pool_index` (the
    pools' dimension values from `pool_membership`, one lookup per pool, not per row)."""
    pools = membership.drop_duplicates("pool_index")
    columns = {}
    for dim in POOL_DIMENSIONS:
        column = pools[f"pool_{dim}"]
        codes = np.full(int(membership["pool_index"].to_numpy().max(initial=-1)) + 1, -1, dtype=np.int64)
        codes[pools["pool_index"].to_numpy(dtype=np.int64)] = column.cat.codes.to_numpy()
        columns[f"pool_{dim}"] = pd.Categorical.from_codes(codes[pool_index], column.cat.categories)
    return columns

"""The output tabs are ready for Looker Studio: pools carry their dimensions as columns, rounds a numeric order,
times are declared durations and come with a formatted column where a table shows them."""

from __future__ import annotations

import pandas as pd
import pytest

from tdz.publish.tables import LOOKER_TYPES, OUTPUT_TABLES, clock, clock_column
from tdz.season import Season


@pytest.mark.parametrize(("seconds", "text"), [
    (1350.657, "0:22:30.7"), (59.96, "0:01:00.0"), (3599.95, "1:00:00.0"), (17579.928, "4:52:59.9"), (0.04, "0:00:00.0"),
    (36000.0, "10:00:00.0")])
def test_clock_is_h_mm_ss_tenths_with_the_carry(seconds: float, text: str) -> None:
    assert clock(seconds) == text


def test_clock_column_formats_each_time_and_leaves_missing_ones_empty() -> None:
    column = clock_column(pd.Series([1350.651, None, 1350.659, 61.0]))  # two times that round to the same tenth
    assert column.astype(object).where(column.notna(), None).tolist() == ["0:22:30.7", None, "0:22:30.7", "0:01:01.0"]


def test_every_time_in_seconds_is_a_looker_duration_and_every_clock_column_shows_one() -> None:
    for table in OUTPUT_TABLES.values():
        types = {c.name: c.type for c in table.columns}
        for column in table.columns:
            if column.name.endswith("_s"):
                assert column.type == "seconds", f"{table.name}.{column.name} holds seconds: declare it `seconds`"
            if column.clock_of:
                assert column.type == "string" and types[column.clock_of] == "seconds", (table.name, column.name)
    assert LOOKER_TYPES["seconds"] == "Duration (sec.)"


def _pool_parts(pool: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in pool.split(", ")) if pool != "overall" else {}


@pytest.mark.parametrize("name", ["round_results", "standings"])
def test_every_points_pool_row_carries_its_dimensions_beside_the_name(demo_tables: dict, ctt: Season,
                                                                     name: str) -> None:
    table = demo_tables[ctt.id][name]
    pools = table.drop_duplicates("pool")
    assert len(pools) == 123
    for row in pools.itertuples():
        parts = _pool_parts(str(row.pool))
        for dim in ("gender", "power_category", "age_category"):
            value = getattr(row, f"pool_{dim}")
            assert (None if pd.isna(value) else value) == parts.get(dim), (row.pool, dim)


def test_gc_classifications_carry_group_and_gender(demo_tables: dict, kwcc: Season) -> None:
    gc = demo_tables[kwcc.id]["gc"].drop_duplicates("classification")
    dims = {row.classification: (None if pd.isna(row.classification_group) else row.classification_group,
                                 None if pd.isna(row.classification_gender) else row.classification_gender)
            for row in gc.itertuples()}
    assert dims == {"overall": (None, None), "group A": ("A", None), "group B": ("B", None), "women": (None, "F")}


def test_round_order_is_the_season_order_counted_from_one(demo_tables: dict, ctt: Season, kwcc: Season) -> None:
    for season, names in ((ctt, ("efforts", "round_results")), (kwcc, ("efforts", "stage_results"))):
        order = {r.id: k + 1 for k, r in enumerate(season.rounds)}
        for name in names:
            table = demo_tables[season.id][name]
            pairs = dict(zip(table["round_id"].astype(str), table["round_order"].astype(int), strict=True))
            assert pairs == {rid: order[rid] for rid in pairs}, name
    rounds = demo_tables[ctt.id]["round_results"].sort_values("round_order")["round_id"].astype(str).unique()
    assert list(rounds[:3]) == ["1", "2", "3"] and rounds[-1] == "14"  # not 1, 10, 11…


def test_formatted_times_match_the_seconds_they_show(demo_tables: dict) -> None:
    for tables in demo_tables.values():
        for name, frame in tables.items():
            for column, source in OUTPUT_TABLES[name].clock_columns.items():
                shown = frame[column].astype(object).where(frame[column].notna(), None)
                expected = [None if pd.isna(v) else clock(v) for v in frame[source]]
                assert shown.tolist() == expected, (name, column)
    gc = demo_tables["kwcc-tdz-2026"]["gc"]
    leader = gc[(gc["classification"] == "overall") & (gc["place"] == 1)].iloc[0]
    assert leader["gap"] == "0:00:00.0" and leader["gc_time"] == clock(leader["gc_time_s"])

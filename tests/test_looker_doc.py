"""docs/looker.md's recipe names only fields the tabs have, with the Looker type tables.py declares for them."""

from __future__ import annotations

import re

from tdz.publish.looker import DOC_PATH
from tdz.publish.tables import LOOKER_TYPES, OUTPUT_TABLES

DOC = DOC_PATH.with_name("looker.md").read_text(encoding="utf-8")
RECIPE = DOC.split("## The report in 15 minutes", 1)[1].split("## Field types", 1)[0]
VALUES = {"overall", "ranked", "dns", "input_hash", "content_hash", "rider"}
"""Not fields: values the recipe filters on (a pool, a GC status), keys of the about tab, the blend's name."""


def table_rows(header: str) -> list[list[str]]:
    rows = []
    for block in RECIPE.split(header)[1:]:
        for line in block.strip().splitlines()[1:]:
            if not line.startswith("|"):
                break
            rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    return rows


def test_every_field_of_the_recipe_is_a_column_with_its_looker_type() -> None:
    rows = table_rows("| data source | field | Looker type |")
    assert len(rows) > 80
    for tab, field, looker_type in rows:
        columns = {c.name: c for c in OUTPUT_TABLES[tab].columns}
        assert field in columns, f"docs/looker.md: `{tab}` has no field `{field}`"
        assert LOOKER_TYPES[columns[field].type] == looker_type, (tab, field, looker_type)


def test_the_pickers_calculated_fields_read_columns_their_data_sources_have() -> None:
    rows = table_rows("| data source | field name | formula |")
    assert {name for _, name, _ in rows} == {"Gender", "Power category", "Age category", "Group"}
    for tabs, _, formula in rows:
        for tab in re.findall(r"(\w+)", tabs):
            for column in set(re.findall(r"\b([a-z]+_[a-z_]+)\b", formula)) - {"left_text"}:
                assert column in OUTPUT_TABLES[tab].names, (tab, column)


def test_every_name_in_backticks_is_a_tab_a_column_or_a_calculated_field() -> None:
    tabs = set(OUTPUT_TABLES)
    columns = {c.name for t in OUTPUT_TABLES.values() for c in t.columns}
    calculated = {"Gender", "Power category", "Age category", "Group"}
    for name in re.findall(r"`([^`\s]+)`", RECIPE):
        if re.fullmatch(r"[a-z][a-z0-9_]*", name):
            assert name in tabs | columns | VALUES, f"docs/looker.md names `{name}`, which no tab has"
        elif re.fullmatch(r"[A-Z][a-z]+( [a-z]+)?", name):
            assert name in calculated, name

"""What every page of the results site shows, read from the published output tables only.

Pure: DataFrames in, page contexts out (plain dicts, lists and strings for the templates). Nothing here reads an
organiser tab, the season file or the disk, so the site can never show what the tabs do not: no "set by" names, no
registry notes. Cells are formatted once per column (vectorised, or once per distinct value), never per page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from tdz.publish.tables import clock_column

GENDERS = {"F": "Women", "M": "Men"}
PENALTY_COLUMNS = {"race_penalty_s": ("race", "race_reason"), "start_penalty_s": ("start time", "start_penalty_reason"),
                   "manual_penalty_s": ("manual result", "")}
"""Penalty column → what it is for and the column that says why, as the efforts and stage tables publish them."""


@dataclass(frozen=True)
class Picker:
    """One drop-down: a dimension of the pools (gender, power category, age category, group) and its choices."""

    dim: str
    label: str
    choices: tuple[tuple[str, str], ...]  # (value, label); value "" is "All" (the pool is not split by it)


@dataclass(frozen=True)
class Pool:
    """A pool (points) or a classification (time): its name in the tabs, page slug, label and dimension values."""

    name: str
    slug: str
    label: str
    dims: dict[str, str] = field(hash=False)

    @property
    def level(self) -> int:
        return sum(bool(v) for v in self.dims.values())


def text(values: pd.Series) -> list[str]:
    """Cells as text, '' for missing values."""
    return ["" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v in values.astype(object)]


def clocks(values: pd.Series) -> list[str]:
    return text(clock_column(values))


def numbers(values: pd.Series) -> list[str]:
    """Points and counts without a needless `.0`; '' when missing."""
    return ["" if pd.isna(v) else f"{v:g}" for v in values.astype("float64")]


def penalties(frame: pd.DataFrame) -> list[str]:
    """Each row's penalties with their reasons: `+60 s race (Zwift event type RACE); +60 s start time (…)`."""
    parts = []
    for column, (label, why_column) in PENALTY_COLUMNS.items():
        if column not in frame:
            continue
        reasons = text(frame[why_column]) if why_column in frame else [""] * len(frame)
        parts.append([f"+{v:g} s {label}" + (f" ({why})" if why else "") if v and not pd.isna(v) else ""
                      for v, why in zip(frame[column].astype("float64"), reasons, strict=True)])
    return ["; ".join(p for p in row if p) for row in zip(*parts, strict=True)] if parts else [""] * len(frame)


def utc_text(values: pd.Series) -> list[str]:
    stamps = pd.to_datetime(values, utc=True)
    return ["" if pd.isna(t) else t.strftime("%a %d %b %Y, %H:%M UTC") for t in stamps]


def slug(name: str) -> str:
    """A file name for a pool or round that every static host serves as is: `gender=F, age_category=50+` →
    `gender-f_age_category-50plus`."""
    name = name.lower().replace("+", "plus").replace(", ", "_").replace("=", "-").replace(" ", "-")
    return re.sub(r"[^a-z0-9_.-]", "-", name) or "pool"


def pool_label(dims: Mapping[str, str]) -> str:
    parts = []
    if dims.get("gender"):
        parts.append(GENDERS.get(dims["gender"], dims["gender"]))
    if dims.get("group"):
        parts.append(f"Group {dims['group']}")
    if dims.get("power_category"):
        parts.append(f"Category {dims['power_category']}")
    if dims.get("age_category"):
        parts.append(f"Age {dims['age_category']}")
    return " · ".join(parts) or "Overall"


# --- pools and pickers ----------------------------------------------------------------------------------------

OVERALL = Pool("overall", "overall", "Overall", {})
"""The one pool of a season before its first results, so the standings page (empty) is always there."""


def standings_pools(standings: pd.DataFrame) -> list[Pool]:
    """Every pool of a points season in the standings' order (overall first, then the season's pool list)."""
    columns = ["pool", "pool_gender", "pool_power_category", "pool_age_category"]
    first = standings.drop_duplicates("pool")[columns]
    pools = []
    for name, *values in zip(*(text(first[c]) for c in columns), strict=True):
        dims = dict(zip(("gender", "power_category", "age_category"), values, strict=True))
        pools.append(Pool(name, slug(name), pool_label(dims), dims))
    return pools or [OVERALL]


def gc_pools(gc: pd.DataFrame) -> list[Pool]:
    """Every GC classification (overall, each group letter, women) in the table's order."""
    columns = ["classification", "classification_group", "classification_gender"]
    first = gc.drop_duplicates("classification")[columns]
    pools = []
    for name, group, gender in zip(*(text(first[c]) for c in columns), strict=True):
        dims = {"gender": gender, "group": group}
        pools.append(Pool(name, slug(name), pool_label(dims), dims))
    return pools or [OVERALL]


def pickers(pools: Iterable[Pool], dims: Iterable[tuple[str, str]]) -> list[Picker]:
    """One drop-down per dimension the pools are split by, "All" first, then the values in order."""
    pools = list(pools)
    out = []
    for dim, label in dims:
        values = sorted({p.dims.get(dim, "") for p in pools} - {""}, key=choice_order)
        if values:
            choices = [("", "All")] + [(v, GENDERS.get(v, v) if dim == "gender" else v) for v in values]
            out.append(Picker(dim, label, tuple(choices)))
    return out


_AGE_ORDER = ("Jnr", "U23", "Snr", "Mas", "Vet", "50+", "60+", "70+", "80+")


def choice_order(value: str) -> tuple[int, str]:
    return (_AGE_ORDER.index(value) if value in _AGE_ORDER else len(_AGE_ORDER), value)


POINTS_DIMS = (("gender", "Gender"), ("power_category", "Power category"), ("age_category", "Age category"))
TIME_DIMS = (("group", "Group"), ("gender", "Gender"))


# --- the season ------------------------------------------------------------------------------------------------


def about(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    frame = tables["about"]
    return dict(zip(text(frame["key"]), text(frame["value"]), strict=True))


def season_status(tables: Mapping[str, pd.DataFrame]) -> str:
    """provisional or final: the standings' (points) or the GC's (time) status, provisional when unknown."""
    for name, column in (("standings", "standings_status"), ("gc", "classification_status")):
        if name in tables and len(tables[name]):
            return str(tables[name][column].iloc[0])
    return "provisional"


def news_lines(news: Mapping[str, object] | None, pool_labels: Mapping[str, str]) -> list[str]:
    """What changed at the last publish that changed something, in riders' words."""
    if not news:
        return []
    if news.get("first_publish"):
        return [f"First results: {news.get('new_efforts', 0)} efforts."]
    lines = [f"{news.get('new_efforts', 0)} new efforts; {news.get('changed_positions', 0)} riders changed place."]
    for pool, names in sorted(dict(news.get("new_leaders") or {}).items()):
        lines.append(f"New leader of {pool_labels.get(pool, pool)}: {', '.join(names)}.")
    return lines


# --- tables as the templates render them ------------------------------------------------------------------------

Cell = str | dict[str, str] | list[dict[str, str]]
"""Plain text; {"t": text, "href": link from the season folder} or {"t": text, "cls": css class} (a mark); or a
list of links (riders sharing a place)."""


@dataclass
class TableView:
    """One accessible table: a caption, column headers (the rider column is each row's header) and rows."""

    id: str
    caption: str
    columns: list[tuple[str, str]]
    """(label, kind): kind `num` (right-aligned), `text`, or `rider` (the row header, `th scope=row`)."""
    rows: list[tuple[list[Cell], dict[str, str]]]
    """Each row's cells and its `data-*` attributes (what the client-side filters read)."""
    empty: str = "No results yet."


def link(text_: str, href: str) -> Cell:
    return {"t": text_, "href": href}


def mark(text_: str, cls: str) -> Cell:
    return {"t": text_, "cls": cls} if text_ else ""


def rider_href(rider_id: object) -> str:
    return f"riders/{rider_id}.html"


def rider_links(frame: pd.DataFrame) -> list[Cell]:
    return [link(name, rider_href(rider)) for rider, name in
            zip(text(frame["rider_id"]), text(frame["rider_name"]), strict=True)]


def flags(values: pd.Series, label: str, cls: str) -> list[Cell]:
    return [mark(label, cls) if v is True else "" for v in values.astype(object).where(values.notna(), False)]


def _cell_html(cell: Cell, root: str) -> str:
    if isinstance(cell, str):
        return str(escape(cell))
    if isinstance(cell, dict):
        if cell.get("href"):
            return f'<a href="{escape(root + cell["href"])}">{escape(cell["t"])}</a>'
        return f'<span class="{escape(cell.get("cls", ""))}">{escape(cell["t"])}</span>' if cell.get("t") else ""
    return ", ".join(_cell_html(c, root) for c in cell)


def rows_html(view: TableView, root: str) -> Markup:
    """The table's body rows as HTML (escaped here, once per cell: the hot path of a 2,000-page site)."""
    kinds = [kind for _, kind in view.columns]
    opens = ['<th scope="row">' if kind == "rider" else f'<td class="{kind}">' for kind in kinds]
    closes = ["</th>" if kind == "rider" else "</td>" for kind in kinds]
    lines = []
    for cells, attrs in view.rows:
        data = "".join(f' data-{k}="{escape(v)}"' for k, v in attrs.items())
        body = "".join(o + _cell_html(c, root) + e for o, c, e in zip(opens, cells, closes, strict=True))
        lines.append(f"<tr{data}>{body}</tr>")
    return Markup("\n".join(lines))


def pickers_html(pickers: Iterable[Picker], pool: Pool) -> Markup:
    """The pool pickers with this pool's values chosen (the same form on every page of the pool: made once per
    pool). The script opens the page of the pool the pickers name; every pool is a page of its own."""
    parts = ['<form class="pickers" data-pool-pickers>']
    for picker in pickers:
        options = "".join(
            f'<option value="{escape(value)}"{" selected" if pool.dims.get(picker.dim, "") == value else ""}>'
            f"{escape(label)}</option>" for value, label in picker.choices)
        parts.append(f'<label>{escape(picker.label)} <select name="{escape(picker.dim)}">{options}</select></label>')
    parts.append('<p class="picker-note" role="status" aria-live="polite"></p></form>')
    return Markup("\n".join(parts))

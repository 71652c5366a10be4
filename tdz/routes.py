"""The bundled table of Zwift routes (tdz/data/zwift-routes.json, generated from the npm package `zwift-data` by
scripts/update_zwift_routes.py): a season file names a route as organisers do, tdz compares Zwift's route ids."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "data" / "zwift-routes.json"


@dataclass(frozen=True)
class ZwiftRoute:
    id: int
    name: str
    world: str
    distance_km: float
    elevation_m: float
    lead_in_km: float
    lead_in_m: float


@cache
def route_table() -> dict[str, ZwiftRoute]:
    """Route name → route; read once per process."""
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    fields = ZwiftRoute.__dataclass_fields__
    return {r["name"]: ZwiftRoute(**{k: v for k, v in r.items() if k in fields}) for r in data["routes"]}


@cache
def table_source() -> str:
    return str(json.loads(TABLE.read_text(encoding="utf-8"))["source"])


@cache
def route_names_by_id() -> dict[int, str]:
    return {r.id: r.name for r in route_table().values()}


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def closest_routes(name: str, n: int = 3) -> list[str]:
    """The table's names nearest to `name`: same words ignoring case and punctuation first, then names that
    contain it (or it them), then the closest spellings."""
    plain, tight = _plain(name), _plain(name).replace(" ", "")
    names = list(route_table())
    by_plain = {_plain(n_): n_ for n_ in names}
    found = [by_plain[plain]] if plain in by_plain else []
    found += [n_ for p, n_ in by_plain.items()
              if len(tight) >= 4 and (tight in p.replace(" ", "") or p.replace(" ", "") in tight) and n_ not in found]
    found += [by_plain[p] for p in difflib.get_close_matches(plain, list(by_plain), n, 0.6) if by_plain[p] not in found]
    return found[:n]


def find_route(name: str) -> ZwiftRoute:
    """The route called exactly `name`; a ValueError naming the closest names otherwise."""
    route = route_table().get(name)
    if route is not None:
        return route
    near = closest_routes(name)
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
    raise ValueError(f"unknown route {name!r}{hint} (routes from {table_source()}; for a route newer than the "
                     "table give its Zwift route_id as well)")

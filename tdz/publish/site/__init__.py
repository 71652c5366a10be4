"""The results site: static pages of one season, made from the published output tables only.

`write_site(tables, folder, news=…)` writes `folder/<season_id>/` (home, standings or GC per pool, a page per
round or stage course, a page per rider, statistics) plus `folder/index.html`, the list of the seasons in the
folder. Pages link to each other by relative paths and carry their stylesheet and script beside them, so the
folder works opened from disk (`file://`) and on any static host; there is no build step. The season's folder is
built aside and swapped in whole, so a reader (or an upload) never sees half of a publish; a publish that
changes nothing (same tables, same news, same site code) leaves the folder as it is.

Templates (Jinja2) are in `templates/`, the stylesheet and the small script (the pickers, the row filters) in
`static/`; both ship inside the package.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tdz.errors import TdzError
from tdz.publish.site.model import (
    about,
    gc_pools,
    news_lines,
    rows_html,
    season_status,
    standings_pools,
)
from tdz.publish.site.news import SiteNews
from tdz.publish.site.pages import (
    Page,
    latest_round,
    riders_index,
    stats_page,
    status_badge,
)
from tdz.publish.site.points import points_leaders, points_pages
from tdz.publish.site.riders import rider_pages
from tdz.publish.site.time import time_leaders, time_pages
from tdz.publish.workbook.cells import content_hash

SITE_FILE = "site.json"
"""Each season folder's facts for the seasons index (name, status, as of)."""

__all__ = ["SiteNews", "SiteWriteError", "season_pages", "write_site"]


class SiteWriteError(TdzError, OSError):
    """The site folder cannot be written (missing permission, a file where the folder should be, a full disk)."""


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("tdz.publish.site", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["rows_html"] = rows_html
    return env


def _site(tables: Mapping[str, pd.DataFrame], news: SiteNews | None) -> dict[str, Any]:
    """What every page of the season shows in its header and footer."""
    facts = about(tables)
    kind = facts.get("scoring", "points")
    status = season_status(tables)
    as_of = pd.Timestamp(facts["as_of"]).strftime("%a %d %b %Y, %H:%M UTC") if facts.get("as_of") else ""
    nav = [("home", "Home", "index.html"),
           ("standings", "Standings", "standings/overall.html") if kind == "points" else
           ("standings", "GC", "gc/overall.html"),
           ("rounds", "Rounds" if kind == "points" else "Stages",
            "rounds/index.html" if kind == "points" else "stages/index.html"),
           ("riders", "Riders", "riders/index.html"), ("stats", "Statistics", "stats.html")]
    return {"id": facts.get("season_id", ""), "name": facts.get("season_name", facts.get("season_id", "")),
            "kind": kind, "status": status, "badge": status_badge(status), "as_of": as_of,
            "rounds_final": facts.get("rounds_final", ""), "rounds": facts.get("rounds", ""),
            "riders": int(tables["riders"]["rider_id"].nunique()), "efforts": int(len(tables["efforts"])),
            "published": news.published_at.strftime("%a %d %b %Y, %H:%M UTC") if news else "", "nav": nav}


def _home(tables: Mapping[str, pd.DataFrame], kind: str, news: SiteNews | None) -> Page:
    leaders, combined = points_leaders(tables) if kind == "points" else time_leaders(tables)
    pools = standings_pools(tables["standings"]) if kind == "points" else gc_pools(tables["gc"])
    labels = {p.name: p.label for p in pools}
    lines = news_lines(news.model_dump() if news else None, labels)
    return Page("index.html", "home.html", {"title": "Home", "section": "home", "leaders": leaders,
                                            "combined": combined, "news": lines,
                                            "latest": latest_round(tables, kind)})


def season_pages(tables: Mapping[str, pd.DataFrame], news: SiteNews | None = None) -> Iterator[Page]:
    """Every page of the season's site, from its output tables."""
    kind = about(tables).get("scoring", "points")
    yield _home(tables, kind, news)
    yield from points_pages(tables) if kind == "points" else time_pages(tables)
    yield riders_index(tables, kind)
    yield from rider_pages(tables, kind)
    yield stats_page(tables, kind)


def _swap_in(built: Path, target: Path) -> None:
    """Replace the folder `target` with `built`: the old one is renamed aside first and removed after."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        os.replace(target, old / target.name)
    os.replace(built, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _copy_static(folder: Path) -> None:
    static = folder / "static"
    static.mkdir(parents=True, exist_ok=True)
    for item in files("tdz.publish.site").joinpath("static").iterdir():
        if item.is_file():
            (static / item.name).write_bytes(item.read_bytes())


@functools.cache
def _code_version() -> str:
    """A hash of the site's own code, templates and static files: a new tdz rewrites every site once."""
    digest = hashlib.sha256()
    package = files("tdz.publish.site")
    for folder in (package, package.joinpath("templates"), package.joinpath("static")):
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            if item.is_file() and not item.name.endswith(".pyc"):
                digest.update(item.name.encode() + b"\0" + item.read_bytes())
    return digest.hexdigest()


def site_digest(tables: Mapping[str, pd.DataFrame], news: SiteNews | None) -> str:
    """What the pages are made of: the tables' content hash, the news and the site code."""
    news_json = news.model_dump_json() if news else ""
    return hashlib.sha256(f"{content_hash(tables)}|{news_json}|{_code_version()}".encode()).hexdigest()


def _current_digest(target: Path) -> str:
    try:
        return str(json.loads((target / SITE_FILE).read_text(encoding="utf-8")).get("digest", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def write_site(tables: Mapping[str, pd.DataFrame], folder: Path, *, news: SiteNews | None = None) -> Path:
    """Write the season's site into `folder/<season_id>/` (unless it already shows exactly these tables and news)
    and the seasons index `folder/index.html`; return the season's `index.html`. A folder that cannot be written
    is a `SiteWriteError` (one line), and the site there stays as it was."""
    try:
        return _write_site(tables, Path(folder), news)
    except OSError as exc:
        if isinstance(exc, SiteWriteError):
            raise
        raise SiteWriteError(f"results site: cannot write {exc.filename or folder} ({exc.strerror or exc}); set "
                             "TDZ_SITE_DIR to a folder tdz may write") from None


def _write_site(tables: Mapping[str, pd.DataFrame], folder: Path, news: SiteNews | None) -> Path:
    env = _environment()
    site = _site(tables, news)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / site["id"]
    digest = site_digest(tables, news)
    if (target / "index.html").exists() and _current_digest(target) == digest:
        write_index(folder, env)
        return target / "index.html"
    built = Path(tempfile.mkdtemp(dir=folder, prefix=f".{site['id']}.new-"))
    try:
        templates: dict[str, Any] = {}
        made: set[str] = set()
        for page in season_pages(tables, news):
            template = templates.get(page.template) or templates.setdefault(page.template,
                                                                            env.get_template(page.template))
            path = built / page.path
            if str(path.parent) not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(str(path.parent))
            root = "../" * page.path.count("/")
            path.write_text(template.render(site=site, root=root, page=page.path, **page.context), encoding="utf-8")
        _copy_static(built)
        pools = standings_pools(tables["standings"]) if site["kind"] == "points" else gc_pools(tables["gc"])
        (built / "pools.js").write_text("window.tdzPools = " + json.dumps(
            [{"slug": p.slug, "dims": p.dims} for p in pools], separators=(",", ":")) + ";\n", encoding="utf-8")
        facts = {k: site[k] for k in ("id", "name", "status", "as_of", "kind")} | {"digest": digest}
        (built / SITE_FILE).write_text(json.dumps(facts, indent=1), encoding="utf-8")
        built.chmod(0o755)
        _swap_in(built, target)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    write_index(folder, env)
    return target / "index.html"


def write_index(folder: Path, env: Environment | None = None) -> Path:
    """`folder/index.html`: a link to every season site in the folder (each season folder's site.json)."""
    seasons = []
    for path in sorted(folder.glob(f"*/{SITE_FILE}")):
        try:
            seasons.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    seasons.sort(key=lambda s: (s.get("status") == "final", s.get("name", "")))
    out = folder / "index.html"
    html = (env or _environment()).get_template("seasons.html").render(seasons=seasons, root="")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    (folder / "static").mkdir(exist_ok=True)
    _copy_static(folder)
    return out

"""The site's "what changed" box: what the last publish that changed something brought.

An hourly run with nothing new publishes the same results again; the box keeps saying what the last real change
was (and when), rather than "nothing new" an hour after every change. The news is kept beside the workbook
(`out/<season>.site-news.json`) with a digest of the results it describes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from tdz.files import atomic_write
from tdz.publish.report import RunSnapshot, compare


class SiteNews(BaseModel):
    season_id: str
    published_at: datetime
    first_publish: bool
    new_efforts: int
    changed_positions: int
    new_leaders: dict[str, list[str]]
    results_digest: str
    """sha256 of the snapshot (efforts and places) this news led to."""


def news_path(out_dir: Path, season_id: str) -> Path:
    return out_dir / f"{season_id}.site-news.json"


def _digest(snap: RunSnapshot) -> str:
    return hashlib.sha256(snap.model_dump_json().encode()).hexdigest()


def latest_news(path: Path, previous: RunSnapshot | None, current: RunSnapshot, now: datetime, *,
                keep: bool) -> SiteNews:
    """The news kept in `path` when it describes `current`; else what changed from `previous` to `current`, at
    `now` (saved in `path` when `keep`: a publish keeps it, a site rebuilt without publishing does not)."""
    digest = _digest(current)
    try:
        stored = SiteNews.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        stored = None
    if stored is not None and stored.season_id == current.season_id and stored.results_digest == digest:
        return stored
    changes = compare(previous, current)
    news = SiteNews(season_id=current.season_id, published_at=now, first_publish=changes.first_run,
                    new_efforts=changes.new_efforts, changed_positions=changes.changed_positions,
                    new_leaders=changes.new_leaders, results_digest=digest)
    if keep:
        atomic_write(path, news.model_dump_json().encode())
    return news

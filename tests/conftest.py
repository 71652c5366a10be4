"""Shared fixtures: the shipped seasons, a demo archive generated once per session, one Prefect harness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tdz.season import Season, load_season
from tests.club import ClubServers, club_env, club_workbook, start_club_servers

ROOT = Path(__file__).resolve().parent.parent
CTT_FILE = ROOT / "seasons" / "ctt-winter-2025-26.toml"
KWCC_FILE = ROOT / "seasons" / "kwcc-tdz-2026.toml"


@pytest.fixture(autouse=True)
def _clean_tdz_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a developer's TDZ_* variables or .env credentials."""
    import os

    for name in list(os.environ):
        if name.startswith("TDZ_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def ctt() -> Season:
    return load_season(CTT_FILE)


@pytest.fixture(scope="session")
def kwcc() -> Season:
    return load_season(KWCC_FILE)


@pytest.fixture(scope="session")
def demo_archive_dir(tmp_path_factory: pytest.TempPathFactory, ctt: Season, kwcc: Season) -> Path:
    """Both demo seasons generated once into a session folder (read-only for tests: copy before changing)."""
    from tdz.demo import ensure_demo

    root = tmp_path_factory.mktemp("demo-archive")
    for season in (ctt, kwcc):
        ensure_demo(season, root)
    return root


DEMO_NOW = datetime(2026, 6, 1, tzinfo=UTC)
"""After both demo seasons: every round final."""


def score_demo(season: Season, archive_dir: Path, now: datetime = DEMO_NOW) -> dict[str, pd.DataFrame]:
    """The output tables of a demo season as `tdz demo` publishes them (its organiser seed rows included)."""
    from tdz.demo import ensure_demo
    from tdz.ingest.archive import Archive
    from tdz.ingest.parse import parse_archive
    from tdz.scoring import score_season
    from tdz.scoring.organiser import read_overrides

    grids = ensure_demo(season, archive_dir).organiser_seed
    parsed = parse_archive(Archive(archive_dir, season.id))
    overrides, problems = read_overrides(season, grids, known_riders=set(parsed.efforts["rider_id"].tolist()),
                                         known_events=set(parsed.events["event_id"].tolist()))
    return score_season(season, parsed, overrides, now=now, problems=problems).tables


@pytest.fixture(scope="session")
def demo_tables(demo_archive_dir: Path, ctt: Season, kwcc: Season) -> dict[str, dict[str, pd.DataFrame]]:
    """Season id → the output tables of both demo seasons, scored once per session (read-only for tests)."""
    return {season.id: score_demo(season, demo_archive_dir) for season in (ctt, kwcc)}


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def club_servers() -> Iterator[ClubServers]:
    """The club's fake ZwiftPower, Zwift API and chat webhook, started once per session."""
    servers = start_club_servers()
    yield servers
    servers.stop()


@pytest.fixture()
def club(club_servers: ClubServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClubServers:
    """The club's environment set (TDZ_* variables) over an empty archive and a fresh organiser workbook."""
    club_servers.reset()
    for name, value in club_env(club_servers, tmp_path).items():
        monkeypatch.setenv(name, value)
    club_workbook(tmp_path)
    return club_servers

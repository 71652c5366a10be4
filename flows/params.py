"""The parameters of a run, validated before anything runs: which season, which part of it, where to, dry or not."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tdz.season import Season, SeasonFileError, load_season

Mode = Literal["all", "event", "round"]
Target = Literal["local", "dev", "prod"]


class RunParameters(BaseModel):
    """One run of a season. `mode`: every past event (`all`), one `event_id`, or one `round` (a round id, or a
    stage, which means all its courses). `target` picks `deployments/<target>.toml`; empty = the TDZ_* settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    season_file: str = Field(description="Season file, relative to the repository root.")
    mode: Mode = "all"
    event_id: int | None = Field(None, gt=0, description="With mode=event: the Zwift event id.")
    round: str | None = Field(None, description="With mode=round: a round id (3.1) or a stage (3).")
    target: Target | None = Field(None, description="local workbook, dev Sheet or prod Sheet; empty = settings.")
    dry_run: bool = Field(False, description="Score and report, but write nothing to the workbook.")
    fetch_retries: int = Field(2, ge=0, le=5, description="Retries of a fetch that failed whole (ZwiftPower down).")
    fetch_retry_delay_seconds: float = Field(60.0, ge=0, le=3600, description="First retry delay; ×4 per retry.")

    @model_validator(mode="after")
    def _check(self) -> RunParameters:
        if self.mode == "event" and (self.event_id is None or self.round is not None):
            raise ValueError("mode=event needs event_id (and no round)")
        if self.mode == "round" and (self.round is None or self.event_id is not None):
            raise ValueError("mode=round needs round (and no event_id)")
        if self.mode == "all" and (self.round is not None or self.event_id is not None):
            raise ValueError("mode=all takes neither event_id nor round")
        season = self.season()
        if self.round is not None and not self.round_ids(season):
            known = ", ".join(r.id for r in season.rounds)
            raise ValueError(f"round {self.round!r} is not a round or stage of {season.id} (rounds: {known})")
        return self

    def season(self) -> Season:
        path = Path(self.season_file)
        if not path.is_file():
            raise ValueError(f"season file {self.season_file!r} not found (relative to {Path.cwd()})")
        try:
            return load_season(path)
        except SeasonFileError as exc:
            raise ValueError(str(exc)) from None

    def round_ids(self, season: Season) -> list[str]:
        """The round ids the `round` parameter names: itself, or every course of the stage."""
        if self.round is None:
            return []
        exact = [r.id for r in season.rounds if r.id == self.round]
        return exact or [r.id for r in season.rounds if r.stage == self.round]

"""A season file (`seasons/*.toml`) loaded into pydantic models: every number the rules need lives here."""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tdz.errors import TdzError
from tdz.routes import find_route

Terrain = Literal["flat", "rolling", "mountain"]
Pen = Literal["A", "B", "C", "D", "E"]
TieBreak = Literal["countback", "best_single", "last_round", "shared"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_PENALTY_SECONDS = 3600
"""A race or start-time penalty of more than an hour is a typo (the shipped seasons use 60 s)."""
MAX_HANDICAP_SECONDS = 7200
"""A handicap is 0 to 2 hours (KWCC's largest is 900 s); the Handicaps tab is held to the same bound."""
GROUP_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


def _group_name(value: str) -> str:
    if not GROUP_PATTERN.match(value):
        raise ValueError(f"a rider group is a capital letter and digits (A1, B3); got {value!r}")
    return value


def _handicap_seconds(value: float) -> float:
    if not 0 <= value <= MAX_HANDICAP_SECONDS:
        raise ValueError(f"a handicap is 0 to {MAX_HANDICAP_SECONDS} seconds; got {value:g}")
    return value


GroupName = Annotated[str, AfterValidator(_group_name)]
HandicapSeconds = Annotated[float, AfterValidator(_handicap_seconds)]


class SeasonFileError(TdzError, ValueError):
    """A season file that cannot be used; the message names the file, the key and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Segment(_Strict):
    id: str = Field(description="ZwiftPower segment id, the key of `msec` in event_sprints.")
    name: str

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class Round(_Strict):
    """A scored unit: one CTT round, or one KWCC stage course (stage 3 has two courses, 3.1 and 3.2)."""

    id: str
    stage: str = Field("", description="The stage this course belongs to; defaults to the round id.")
    name: str = ""
    opens: AwareDatetime
    closes: AwareDatetime = Field(description="End of the window, exclusive.")
    route: str = Field(description="Zwift route name as in the bundled route table (tdz/data/zwift-routes.json).")
    route_id: int | None = Field(None, gt=0, description="Zwift route id; from the route table when not given.")
    laps: int | None = Field(None, ge=1, description="Laps a pen must ride to ride this course (None: any).")
    terrain: Terrain | None = None
    segment: Segment | None = None
    pen: Pen | None = Field(None, description="Fallback when an event's Zwift details do not say which route each "
                                             "pen rode: only this pen counts (None: every pen).")
    distance_km: float | None = Field(None, gt=0, description="Course distance; a pen whose distance differs by "
                                                              "more than the season's distance_tolerance rode "
                                                              "another course.")
    elevation_m: float | None = None
    race_policy: Literal["count", "penalty", "exclude"] = "count"
    race_penalty_seconds: float = Field(0, ge=0, le=MAX_PENALTY_SECONDS)
    start_penalty: bool = Field(False, description="Apply the season's start-time penalty to this round.")
    events: tuple[int, ...] = Field((), description="Event ids known up front; the Events tab adds more.")

    @model_validator(mode="after")
    def _check(self) -> Round:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        if not self.stage:
            object.__setattr__(self, "stage", self.id)
        if self.route_id is None:
            object.__setattr__(self, "route_id", find_route(self.route).id)
        return self


class PowerCategory(_Strict):
    category: str
    min_watts: float = Field(0, ge=0)
    min_wkg: float = Field(0, ge=0)


class PowerCategories(_Strict):
    """Thresholds, highest category first; a rider below every threshold gets `fallback`."""

    open: tuple[PowerCategory, ...]
    women: tuple[PowerCategory, ...]
    fallback: str = "D"


class PointsScoring(_Strict):
    """Position points per round, lowest total wins (the CTT way)."""

    kind: Literal["points"]
    base_total: float = Field(50, ge=0, le=10_000)
    segment_bonus: tuple[float, ...] = (5, 4, 3, 2, 1)
    pb_bonus: float = 1
    counting: dict[Terrain, Annotated[int, Field(ge=0)]]
    power_categories: PowerCategories
    pools: tuple[str, ...] = Field(
        ("overall",),
        description="Pool dimensions: overall, gender, power_category, age_category, or a+b combinations.",
    )
    tie_breaks: tuple[TieBreak, ...] = ("shared",)

    @field_validator("pb_bonus")
    @classmethod
    def _pb_bonus_as_points_off(cls, value: float) -> float:
        """Bonuses are written as the points they take off (the rules say −1; the file says 1): one notation."""
        if value < 0:
            raise ValueError("write a bonus as the points it takes off (pb_bonus = 1 for −1 a PB), not as a "
                             f"negative number; got {value}")
        return value

    @field_validator("segment_bonus")
    @classmethod
    def _segment_bonus_as_points_off(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if any(v < 0 for v in values):
            raise ValueError("write bonuses as the points they take off, place 1 first (segment_bonus = "
                             f"[5, 4, 3, 2, 1] for −5, −4 …), not as negative numbers; got {list(values)}")
        if any(later > earlier for earlier, later in zip(values, values[1:])):
            raise ValueError(f"a lower segment place cannot earn a bigger bonus (place 1 first); got {list(values)}")
        return values

    @field_validator("pools")
    @classmethod
    def _known_pool_dimensions(cls, pools: tuple[str, ...]) -> tuple[str, ...]:
        known = {"overall", "gender", "power_category", "age_category"}
        for pool in pools:
            unknown = set(pool.split("+")) - known
            if unknown:
                raise ValueError(f"unknown pool dimension {sorted(unknown)} in {pool!r}; use {sorted(known)}")
        return pools


class StartPenalty(_Strict):
    """A time penalty for events starting on a weekday at given UTC times (± a tolerance, inclusive)."""

    weekday: Literal[WEEKDAYS]  # type: ignore[valid-type]
    times_utc: tuple[time, ...]
    tolerance_minutes: float = Field(15, ge=0, le=180)
    seconds: float = Field(60, ge=0, le=MAX_PENALTY_SECONDS)

    @property
    def weekday_index(self) -> int:
        return WEEKDAYS.index(self.weekday)


RaceSignal = Literal["event_type", "name"]


class TimeScoring(_Strict):
    """Stage times with penalties, handicap once on GC (the KWCC way)."""

    kind: Literal["time"]
    race_signals: tuple[RaceSignal, ...] = Field(
        ("event_type", "name"), description="What makes an event a race: Zwift's eventType RACE, the name pattern.")
    race_pattern: str = r"\brace\b"
    start_penalty: StartPenalty | None = None
    handicaps: dict[GroupName, HandicapSeconds] = Field(default_factory=dict,
                                                        description="Rider group → seconds added to GC.")
    registered_only: bool = Field(True, description="Only riders in the Rider registry tab count.")
    tie_breaks: tuple[TieBreak, ...] = ("shared",)

    @field_validator("race_pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern


class Discovery(_Strict):
    """How candidate events are scored from ZwiftPower's recent-results list when a stage lists none."""

    title_pattern: str = Field(r"\bstage\s*{stage}\b", description="Regex a title must match; {stage} filled in.")
    series_words: tuple[str, ...] = ("tour de zwift",)
    series_points: float = 2
    route_points: float = 5
    in_window_points: float = 3
    outside_window_points: float = -5
    penalised_words: dict[str, float] = Field(default_factory=lambda: {"advanced": -2, "run": -10})
    max_events: int = Field(12, ge=1)
    lookback_days: int = Field(7, ge=1)
    count_suggested: bool = Field(
        True, description="Suggested events count before an organiser confirms them (False: only confirmed)."
    )


class Window(_Strict):
    opens: AwareDatetime
    closes: AwareDatetime


class SeasonInfo(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    timezone: str = "Europe/London"
    settle_hours: float = Field(48, ge=0, description="Hours after a window closes before it is final.")
    finish_time: Literal["time", "time_gun"] = Field(
        "time", description="`time` = the rider's own time (time[0]); `time_gun` = from the gun."
    )
    makeup: Window | None = Field(None, description="A week after the last stage when any stage may be ridden.")
    distance_tolerance: float = Field(
        0.1, ge=0, le=1, description="How far a pen's distance may differ from a course's distance_km (a share).")


class Season(_Strict):
    season: SeasonInfo
    scoring: Annotated[PointsScoring | TimeScoring, Field(discriminator="kind")]
    discovery: Discovery | None = None
    rounds: tuple[Round, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _rounds_fit_the_rules(self) -> Season:
        ids = [r.id for r in self.rounds]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"round ids must be unique; repeated: {duplicates}")
        if isinstance(self.scoring, PointsScoring):
            for r in self.rounds:
                if r.terrain is None:
                    raise ValueError(f"round {r.id} needs a terrain (points scoring counts rounds by terrain)")
        return self

    @property
    def id(self) -> str:
        return self.season.id

    def round(self, round_id: str) -> Round:
        for r in self.rounds:
            if r.id == round_id:
                return r
        raise KeyError(round_id)

    @property
    def counts_suggested_events(self) -> bool:
        """Whether discovery's suggestions count before an organiser confirms them (no discovery: they don't)."""
        return self.discovery.count_suggested if self.discovery else False

    def final_round_ids(self, now: datetime) -> set[str]:
        """Rounds whose results no longer change: the window (and the make-up week, when there is one, since any
        stage may be ridden then) closed at least `settle_hours` ago."""
        settle = timedelta(hours=self.season.settle_hours)
        makeup = self.season.makeup.closes if self.season.makeup else None
        return {r.id for r in self.rounds if now >= max(r.closes, makeup or r.closes) + settle}

    def stages_named_in(self, title: str) -> list[str]:
        """The season's stages whose number the title names, by the discovery `title_pattern` ("Stage 4")."""
        pattern = self.discovery.title_pattern if self.discovery else Discovery().title_pattern
        stages = dict.fromkeys(r.stage for r in self.rounds)
        return [s for s in stages if re.search(pattern.replace("{stage}", re.escape(s)), title, re.IGNORECASE)]

    def in_makeup(self, when: datetime) -> bool:
        makeup = self.season.makeup
        return makeup is not None and makeup.opens <= when < makeup.closes

    def rounds_open_at(self, when: datetime) -> list[Round]:
        """Rounds whose window holds `when` (several when courses of one stage share events)."""
        return [r for r in self.rounds if r.opens <= when < r.closes]

    def meaning_faults(self) -> list[tuple[str, str]]:
        """(key, why) for every number that type-checks but cannot be what the organiser meant."""
        faults: list[tuple[str, str]] = []
        if isinstance(self.scoring, PointsScoring):
            for terrain in dict.fromkeys(r.terrain for r in self.rounds if r.terrain):
                rounds = [r.id for r in self.rounds if r.terrain == terrain]
                if terrain not in self.scoring.counting:
                    faults.append(("scoring.counting", f"rounds {', '.join(rounds)} are {terrain} but no {terrain} "
                                                       f"rounds count (add {terrain} = <n>)"))
            for terrain, quota in self.scoring.counting.items():
                rounds = sum(r.terrain == terrain for r in self.rounds)
                if rounds and quota > rounds:  # a quota for a terrain the season does not ride changes nothing
                    faults.append((f"scoring.counting.{terrain}", f"{quota} {terrain} rounds count, but the season "
                                                                  f"has {rounds} {terrain} rounds"))
        return faults


def _key(loc: tuple[int | str, ...], data: dict) -> str:
    """Render a pydantic error location as a TOML key path, naming rounds by their id."""
    parts: list[str] = []
    node: object = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict) and "id" in node[item]:
                label = f"[{item}] (id {node[item]['id']!r})"
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            if item in ("points", "time") and parts and parts[-1] == "scoring":
                continue
            if item == "[key]":  # a dict key that is refused: the key itself is the last part
                continue
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def load_season(path: str | Path) -> Season:
    """Read and validate a season file; any fault raises one `SeasonFileError` naming file, key and reason."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        shipped = ", ".join(sorted(p.name for p in path.parent.glob("*.toml"))) if path.parent.is_dir() else ""
        raise SeasonFileError(f"{path}: season file not found (relative to {Path.cwd()})"
                              + (f"; in {path.parent}: {shipped}" if shipped else "")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SeasonFileError(f"{path}: cannot read the season file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SeasonFileError(f"{path}: not valid TOML: {exc}") from None
    try:
        season = Season.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A misspelt required key is one fault: "did you mean name?" says it all, "name: Field required" goes.
        meant = {(*err["loc"][:-1], _close(str(err["loc"][-1]), _known_keys(tuple(err["loc"][:-1]))))
                 for err in errors if err["type"] == "extra_forbidden"}
        # A list whose items all failed also fails its length check: the items' own faults say it all.
        item_faults = {tuple(err["loc"][:-1]) for err in errors if len(err["loc"]) > 1}
        lines = [f"{path}: key {_key(err['loc'], data)}: {_why(err)}" for err in errors
                 if not (err["type"] == "missing" and tuple(err["loc"]) in meant)
                 and not (err["type"] == "too_short" and tuple(err["loc"]) in {
                     loc[:len(err["loc"])] for loc in item_faults})]
        raise SeasonFileError("\n".join(lines)) from None
    faults = season.meaning_faults()
    if faults:
        raise SeasonFileError("\n".join(f"{path}: key {key}: {why}" for key, why in faults))
    return season


def _why(err: Any) -> str:
    """Pydantic's reason, or for a key the model does not know, the key it most looks like."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        return _unknown(str(loc[-1]), _known_keys(loc[:-1]))
    if loc and loc[-1] == "[key]" and err["type"] == "literal_error":
        return _unknown(str(loc[-2]), re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", ""))))
    return err["msg"].removeprefix("Value error, ")


def _close(key: str, known: list[str]) -> str | None:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown(key: str, known: list[str]) -> str:
    close = _close(key, known)
    if close:
        return f"unknown key; did you mean {close}?"
    return f"unknown key; known here: {', '.join(known)}" if known else "unknown key"


def _models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models(arg)]


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the season file's models accept at `loc` (a pydantic error location)."""
    models: list[type[BaseModel]] = [Season]
    for item in loc:
        if isinstance(item, int):
            continue
        tagged = [m for m in models if "kind" in m.model_fields and item in get_args(m.model_fields["kind"].annotation)]
        if tagged:
            models = tagged
            continue
        models = [sub for m in models if item in m.model_fields for sub in _models(m.model_fields[item].annotation)]
    return sorted({name for m in models for name in m.model_fields})

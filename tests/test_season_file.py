"""Season files are checked for meaning, not only type: one line per fault, naming the key and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tdz.cli import app
from tdz.season import SeasonFileError, load_season
from tests.conftest import CTT_FILE, KWCC_FILE


def edited(tmp_path: Path, source: Path, *replacements: tuple[str, str]) -> Path:
    text = source.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / source.name
    path.write_text(text, encoding="utf-8")
    return path


def faults(path: Path) -> list[str]:
    with pytest.raises(SeasonFileError) as refused:
        load_season(path)
    return [line.removeprefix(f"{path}: ") for line in str(refused.value).splitlines()]


@pytest.mark.parametrize(("source", "old", "new", "expected"), [
    (CTT_FILE, "pb_bonus = 1 ", "pb_bonus = -1 ",
     "key scoring.pb_bonus: write a bonus as the points it takes off (pb_bonus = 1 for −1 a PB), not as a negative "
     "number; got -1.0"),
    (CTT_FILE, "segment_bonus = [5, 4, 3, 2, 1]", "segment_bonus = [5, -4, 3, 2, 1]",
     "key scoring.segment_bonus: write bonuses as the points they take off, place 1 first "
     "(segment_bonus = [5, 4, 3, 2, 1] for −5, −4 …), not as negative numbers; got [5.0, -4.0, 3.0, 2.0, 1.0]"),
    (CTT_FILE, "segment_bonus = [5, 4, 3, 2, 1]", "segment_bonus = [1, 2, 3, 4, 5]",
     "key scoring.segment_bonus: a lower segment place cannot earn a bigger bonus (place 1 first); "
     "got [1.0, 2.0, 3.0, 4.0, 5.0]"),
    (CTT_FILE, "flat = 4", "flat = 40",
     "key scoring.counting.flat: 40 flat rounds count, but the season has 8 flat rounds"),
    (CTT_FILE, "flat = 4", "flat = -1", "key scoring.counting.flat: Input should be greater than or equal to 0"),
    (CTT_FILE, "mountain = 1\n", "\n",
     "key scoring.counting: rounds 4, 11 are mountain but no mountain rounds count (add mountain = <n>)"),
    (CTT_FILE, "base_total = 50 ", "base_total = -50 ", "key scoring.base_total: Input should be greater than or "
                                                         "equal to 0"),
    (CTT_FILE, "pb_bonus = 1 ", "pb_bonuss = 1 ",
     "key scoring.pb_bonuss: unknown key; did you mean pb_bonus?"),
    (CTT_FILE, 'segment = { id = "35", name = "Fuego Flats Reverse" }',
     'segment = { id = "35", nmae = "Fuego Flats Reverse" }',
     "key rounds[0] (id '1').segment.nmae: unknown key; did you mean name?"),
    (CTT_FILE, "settle_hours = 48 ", "settel_hours = 48 ", "key season.settel_hours: unknown key; did you mean "
                                                           "settle_hours?"),
    (KWCC_FILE, "race_penalty_seconds = 60", "race_penalty_seconds = 60000",
     "key rounds[0] (id '1').race_penalty_seconds: Input should be less than or equal to 3600"),
    (KWCC_FILE, "seconds = 60", "seconds = 1e9",
     "key scoring.start_penalty.seconds: Input should be less than or equal to 3600"),
    (KWCC_FILE, "B1 = 900", "B1 = 1e60",
     "key scoring.handicaps.B1: a handicap is 0 to 7200 seconds; got 1e+60"),
    (KWCC_FILE, "B1 = 900", "b1 = 900",
     "key scoring.handicaps.b1: a rider group is a capital letter and digits (A1, B3); got 'b1'"),
    (KWCC_FILE, "registered_only = true", "registred_only = true",
     "key scoring.registred_only: unknown key; did you mean registered_only?"),
])
def test_a_season_file_that_means_nonsense_is_refused_naming_the_key(
        tmp_path: Path, source: Path, old: str, new: str, expected: str) -> None:
    assert faults(edited(tmp_path, source, (old, new))) == [expected]


def test_the_shipped_seasons_pass() -> None:
    assert load_season(CTT_FILE).scoring.kind == "points" and load_season(KWCC_FILE).scoring.kind == "time"


def test_every_fault_is_one_line_of_the_cli(tmp_path: Path) -> None:
    path = edited(tmp_path, CTT_FILE, ("pb_bonus = 1 ", "pb_bonus = -1 "), ("flat = 4", "flats = 4"))
    result = CliRunner().invoke(app, ["rescore", "--season", str(path)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2, result.stderr
    assert any("key scoring.pb_bonus: write a bonus as the points it takes off" in line for line in errors)
    assert any("key scoring.counting.flats: unknown key; did you mean flat?" in line for line in errors)

"""The `tdz` command as an organiser meets it: runs in-process and says so; every fault they can cause is one line
on stderr and exit code 1, with the traceback only under --debug."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tdz.cli import app
from tests.club import USER, ClubServers
from tests.conftest import KWCC_FILE, ROOT


def tdz(*args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env={f"TDZ_{k}": v for k, v in env.items()})


def one_error(result: Result) -> str:
    """The run failed with exactly one line, an `error:` line, on stderr and nothing of a traceback."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    return errors[0].removeprefix("error: ")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_run_is_in_process_and_says_so_first(club: ClubServers, tmp_path: Path) -> None:
    result = tdz("run", "--season", str(KWCC_FILE))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0].startswith("tdz: running in-process, no Prefect server")
    assert "KWCC Tour de Zwift 2026 (kwcc-tdz-2026): 3 riders, 6 efforts" in result.stdout
    assert (tmp_path / "out" / "kwcc-tdz-2026.xlsx").exists()
    again = tdz("rescore", "--season", str(KWCC_FILE))
    assert again.exit_code == 0 and "wrote nothing (unchanged)" in again.stdout


@pytest.mark.parametrize(("env", "expected"), [
    ({"WORKBOOK": "sheet"}, "bad setting (the environment or .env): TDZ_WORKBOOK='sheet': Input should be 'xlsx' or "
                            "'sheets'"),
    ({"FETCH_CONCURRENCY": "lots"}, "TDZ_FETCH_CONCURRENCY='lots': Input should be a valid integer"),
    ({"ZWIFTPOWER_URL": "zwiftpower.com"}, "TDZ_ZWIFTPOWER_URL='zwiftpower.com': not an http(s) URL with a host"),
    ({"ZWIFTPOWER_URL": "https://zwiftpower.com:port"}, "TDZ_ZWIFTPOWER_URL='https://zwiftpower.com:port': not a URL"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(club: ClubServers, env: dict[str, str], expected: str) -> None:
    assert expected in one_error(tdz("run", "--season", str(KWCC_FILE), **env))


def test_a_missing_season_file_or_round_is_one_line(club: ClubServers) -> None:
    assert one_error(tdz("rescore", "--season", "seasons/kwcc-2031.toml")).startswith(
        "seasons/kwcc-2031.toml: season file not found")
    assert one_error(tdz("run", "--season", str(KWCC_FILE), "--round", "9")).startswith(
        "round '9' is not a round or stage of kwcc-tdz-2026")
    assert one_error(tdz("run", "--season", str(KWCC_FILE), "--round", "1", "--event", "6001")) == (
        "give --event or --round, not both")


def test_a_bad_season_file_is_one_line_per_fault(club: ClubServers, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(KWCC_FILE.read_text().replace('kind = "time"', 'kind = "times"', 1)
                   .replace("2026-01-05T00:00:00Z", "next monday", 1), encoding="utf-8")
    result = tdz("rescore", "--season", str(bad))
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and all(line.startswith(f"error: {bad}: ") for line in errors), result.stderr


def test_a_sheet_target_without_a_key_is_one_line(club: ClubServers) -> None:
    line = one_error(tdz("rescore", "--season", str(KWCC_FILE), WORKBOOK="sheets", SHEET_ID="1AbC"))
    assert line.startswith("no service-account key: set TDZ_GOOGLE_SERVICE_ACCOUNT_FILE")
    assert one_error(tdz("rescore", "--season", str(KWCC_FILE), "--target", "prod")).startswith(
        "target prod writes to a Google Sheet but has no Sheet id")


def test_wrong_credentials_are_one_line_with_zwifts_words(club: ClubServers) -> None:
    line = one_error(tdz("run", "--season", str(KWCC_FILE), ZWIFTPOWER_PASSWORD="guess"))
    assert line == f"ZwiftPower login failed for {USER}: Invalid username or password."
    assert club.result_fetches() == 0


def test_zwiftpower_unreachable_or_unresolvable_is_one_line_and_not_retried_in_vain(club: ClubServers) -> None:
    refused = one_error(tdz("run", "--season", str(KWCC_FILE), ZWIFTPOWER_URL=f"http://127.0.0.1:{closed_port()}",
                            MAX_RETRIES="1"))
    assert refused.startswith("kwcc-tdz-2026: nothing fetched:") and "ConnectError" in refused
    assert "check TDZ_ZWIFTPOWER_URL" in refused
    unresolved = one_error(tdz("run", "--season", str(KWCC_FILE), ZWIFTPOWER_URL="https://zwiftpower.invalid",
                               MAX_RETRIES="5"))
    assert "the host name 'zwiftpower.invalid' does not resolve" in unresolved and "attempts" not in unresolved


def test_debug_adds_the_traceback(club: ClubServers) -> None:
    result = tdz("--debug", "rescore", "--season", "seasons/kwcc-2031.toml")
    assert result.exit_code == 1 and "Traceback" in result.stderr and "SeasonFileError" in result.stderr


def test_the_installed_command_exits_non_zero_with_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "tdz.cli", "rescore", "--season", "seasons/kwcc-2031.toml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: seasons/kwcc-2031.toml: season file not found") and len(lines) == 2

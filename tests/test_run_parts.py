"""The plain parts of a run: its request, target environments, what-changed numbers, alert messages. No Prefect
here; the alert is posted to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from tdz.errors import RunRequestError, SettingsError
from tdz.pipeline import RunRequest, open_run
from tdz.publish.alerts import (
    alert_text,
    post_alert,
    redact,
    secret_values,
    webhook_payload,
)
from tdz.publish.report import compare, leaders, load_snapshot, save_snapshot, snapshot
from tdz.season import SeasonFileError
from tdz.settings import Settings, environment_values, load_settings
from tests.club import Receiver
from tests.conftest import KWCC_FILE


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.stop()


# --- run parameters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "fault"), [
    ({"mode": "event"}, "mode=event needs event_id"),
    ({"mode": "round", "event_id": 5}, "mode=round needs round"),
    ({"round": "1"}, "mode=all takes neither"),
    ({"target": "staging"}, "Input should be 'local', 'dev' or 'prod'"),
    ({"mode": "event", "event_id": -3}, "greater than 0"),
    ({"password": "x"}, "Extra inputs are not permitted"),
])
def test_a_request_that_does_not_add_up_is_refused_with_the_reason(values: dict[str, object], fault: str) -> None:
    with pytest.raises(ValidationError, match=fault.replace("(", r"\(")):
        RunRequest.model_validate({"season_file": str(KWCC_FILE)} | values)


def test_a_request_that_does_not_fit_the_season_is_one_line_before_anything_runs(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, archive_dir=tmp_path / "archive", out_dir=tmp_path / "out")
    with pytest.raises(RunRequestError, match=r"^round '9' is not a round or stage of kwcc-tdz-2026 .*its rounds: 1, 2"):
        open_run(RunRequest(season_file=str(KWCC_FILE), mode="round", round="9"), settings)
    with pytest.raises(SeasonFileError, match=r"^seasons/nope.toml: season file not found \(relative to .*; in seasons: "
                                              r"ctt-winter-2025-26.toml, kwcc-tdz-2026.toml$"):
        open_run(RunRequest(season_file="seasons/nope.toml"), settings)
    assert not (tmp_path / "out").exists() and not (tmp_path / "archive").exists()


def test_a_stage_names_all_its_courses_and_a_round_itself(kwcc) -> None:  # noqa: ANN001
    stage = RunRequest(season_file=str(KWCC_FILE), mode="round", round="3")
    assert stage.round_ids(kwcc) == [r.id for r in kwcc.rounds if r.stage == "3"] == ["3.1", "3.2"]
    assert RunRequest(season_file=str(KWCC_FILE), mode="round", round="3.2").round_ids(kwcc) == ["3.2"]


def test_environment_files_pick_the_workbook_and_refuse_secrets(tmp_path: Path) -> None:
    assert load_settings("local").workbook == "xlsx"
    with pytest.raises(SettingsError, match="has no Sheet id"):
        load_settings("prod")
    (tmp_path / "dev.toml").write_text('workbook = "sheets"\nzwiftpower_password = "hunter2"\n')
    with pytest.raises(SettingsError, match=r"\['zwiftpower_password'\] are secrets"):
        environment_values("dev", tmp_path)
    (tmp_path / "prod.toml").write_text('workbook = "sheets"\nsheet_id = ""\nshet_id = "typo"\n')
    with pytest.raises(SettingsError, match=r"unknown settings \['shet_id'\]"):
        environment_values("prod", tmp_path)


def test_the_sheet_id_of_a_sheet_target_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDZ_SHEET_ID", "https://docs.google.com/spreadsheets/d/1AbC-dev/edit#gid=0")
    settings = load_settings("dev")
    assert (settings.workbook, settings.sheet_id) == ("sheets", "1AbC-dev")


# --- what changed since the last run ----------------------------------------------------------------------------


def gc(rows: list[tuple[str, float | None, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["classification", "place", "rider_id", "rider_name"])


def efforts(keys: list[tuple[str, int | None, int]]) -> pd.DataFrame:
    return pd.DataFrame(keys, columns=["round_id", "event_id", "rider_id"]).astype({"event_id": "Int64"})


def test_changes_count_new_efforts_moved_riders_and_new_leaders(tmp_path: Path) -> None:
    before = snapshot("s", {"gc": gc([("overall", 1, 1, "Ann"), ("overall", 2, 2, "Bob"), ("women", 1, 1, "Ann"),
                                      ("overall", None, 3, "Cy")]),
                            "efforts": efforts([("1", 10, 1), ("1", 10, 2)])})
    after = snapshot("s", {"gc": gc([("overall", 1, 2, "Bob"), ("overall", 2, 1, "Ann"), ("women", 1, 1, "Ann"),
                                     ("overall", 3, 3, "Cy")]),
                           "efforts": efforts([("1", 10, 1), ("1", 10, 2), ("2", 11, 1), ("2", None, 3)])})
    changes = compare(before, after)
    assert (changes.first_run, changes.new_efforts, changes.changed_positions) == (False, 2, 3)
    assert changes.new_leaders == {"overall": ["Bob"]}
    assert leaders(after) == {"overall": ["Bob"], "women": ["Ann"]}
    assert compare(after, after).model_dump() == {"first_run": False, "new_efforts": 0, "changed_positions": 0,
                                                   "new_leaders": {}}
    first = compare(None, before)
    assert first.first_run and first.new_efforts == 2 and first.new_leaders == {"overall": ["Ann"], "women": ["Ann"]}

    path = tmp_path / "out" / "s.last-run.json"
    assert load_snapshot(path) is None
    save_snapshot(path, after)
    assert load_snapshot(path) == after
    path.write_text("{not json")
    assert load_snapshot(path) is None


# --- alerts -----------------------------------------------------------------------------------------------------


def test_an_alert_reaches_the_webhook_in_a_shape_slack_and_discord_take(receiver: Receiver) -> None:
    text = alert_text("kwcc-tdz-2026", "ZwiftPower down\n  500 on event 6001", "http://ui/runs/flow-run/42",
                      flow="update-season")
    assert post_alert(SecretStr(receiver.url("/hooks/T000/B000/s3cr3t")), webhook_payload(text)) is None
    body = receiver.bodies[0]
    assert body["text"] == body["content"] == text
    assert "kwcc-tdz-2026" in text and "update-season" in text and "500 on event 6001" in text
    assert "http://ui/runs/flow-run/42" in text


def test_a_refused_or_unreachable_webhook_is_explained_without_its_url(receiver: Receiver) -> None:
    receiver.status = 404
    token = "/api/webhooks/123/very-secret-token"
    refused = post_alert(SecretStr(receiver.url(token)), webhook_payload("x"))
    assert refused == "the alert webhook refused the message (HTTP 404)"
    receiver.stop()
    gone = post_alert(SecretStr(receiver.url(token)), webhook_payload("x"), timeout_seconds=1)
    assert gone is not None and "very-secret-token" not in gone and "127.0.0.1" not in gone


def test_every_secret_of_the_settings_is_redacted() -> None:
    key = json.dumps({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com",
                      "private_key_id": "abcdef0123456789", "private_key": "-----BEGIN PRIVATE KEY-----\n"
                      "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"})
    settings = Settings(_env_file=None, zwiftpower_password=SecretStr("pa55-word!"),
                        zwiftpower_cookie=SecretStr("phpbb3_lswlk_sid=abc123def456; phpbb3_lswlk_u=99"),
                        google_service_account_json=SecretStr(key),
                        webhook_url=SecretStr("https://hooks.slack.com/services/T1/B2/xyz"))
    secrets = secret_values(settings)
    leaked = ("login failed with pa55-word! for cookie phpbb3_lswlk_sid=abc123def456 key abcdef0123456789 "
              "line MIIEvQIBADANBgkqhkiG9w0BAQEFAASC posting to https://hooks.slack.com/services/T1/B2/xyz")
    cleaned = redact(leaked, secrets)
    for secret in ("pa55-word!", "abc123def456", "abcdef0123456789", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
                   "services/T1/B2/xyz"):
        assert secret not in cleaned
    assert cleaned.startswith("login failed with *** for cookie ***")


def test_a_publish_never_blanks_standings_and_an_absent_archive_publishes_nothing(tmp_path) -> None:
    from tdz.publish.report import RunSnapshot, WouldBlankStandings, publishable

    before = RunSnapshot(season_id="s", efforts=["1/5001/42"], places={"overall": {"42": 1}})
    empty = RunSnapshot(season_id="s")
    with pytest.raises(WouldBlankStandings, match="refusing to blank"):
        publishable(True, tmp_path, before, empty)
    assert "no raw archive" in (publishable(False, tmp_path, None, empty) or "")
    assert publishable(True, tmp_path, before, before) is None
    assert publishable(True, tmp_path, None, empty) is None  # a first publish of a season with no results yet

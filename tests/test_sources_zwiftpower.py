"""The ZwiftPower and Zwift clients against real fake servers on 127.0.0.1, through the real httpx client."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from tdz.cli import app
from tdz.ingest.sources import (
    FetchFailed,
    NotFound,
    RetryPolicy,
    ZwiftEventsClient,
    ZwiftPowerClient,
    ZwiftPowerLoginError,
)
from tdz.ingest.sources.zwiftpower import SESSION_FILE, parse_cookie_string
from tdz.retry import parse_retry_after
from tdz.settings import Settings
from tests.fakes.zwift_server import FakeZwiftApi, zwift_event
from tests.fakes.zwiftpower_server import FakeZwiftPower, list_row, view_row

USER, PASSWORD = "rider@example.com", "correct-horse-battery"
EVENT = 5188741
T = TypeVar("T")
FAST = RetryPolicy(max_retries=2, backoff_base_seconds=0.001, backoff_max_seconds=1.0)


@pytest.fixture(scope="module")
def zp() -> FakeZwiftPower:
    fake = FakeZwiftPower().start()
    fake.add_user(USER, PASSWORD)
    fake.results[EVENT] = [view_row(EVENT, 1000001 + i, f"Rider {i} O'Brien", i + 1, "C", 1700 + i) for i in range(3)]
    fake.event_list = [list_row(EVENT, "Tour de Zwift Stage 1 &amp; more", datetime(2026, 1, 6, tzinfo=timezone.utc))]
    fake.profiles[1000001] = {"data": [{"zid": str(EVENT), "zwid": 1000001}]}
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def zwift_api() -> FakeZwiftApi:
    fake = FakeZwiftApi().start()
    fake.events[EVENT] = zwift_event(EVENT, "Tour de Zwift: Stage 1", datetime(2026, 1, 6, 17, tzinfo=timezone.utc))
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _clean(zp: FakeZwiftPower) -> None:
    zp.reset_log()
    zp.expire_sessions()
    zp.view_missing.clear()


def settings_for(zp: FakeZwiftPower, folder: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        zwiftpower_url=zp.url, zwiftpower_username=USER, zwiftpower_password=SecretStr(PASSWORD),
        archive_dir=folder, requests_per_second=500, request_timeout_seconds=2, max_retries=2,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def run(call: Callable[[ZwiftPowerClient], Awaitable[T]], client: ZwiftPowerClient) -> T:
    """Run one call on a client in its own event loop (as one fetch run would), then close the client."""

    async def go() -> T:
        try:
            return await call(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def make_client(zp: FakeZwiftPower, folder: Path, **overrides: object) -> ZwiftPowerClient:
    return ZwiftPowerClient.from_settings(settings_for(zp, folder, **overrides), FAST)


def rows_of(body: bytes) -> list[dict]:
    return json.loads(body)["data"]


def test_sso_login_gives_a_session_kept_owner_only_and_reused(zp: FakeZwiftPower, tmp_path: Path) -> None:
    body, url = run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path))
    assert url.endswith(f"{EVENT}_view.json")
    assert [r["zwid"] for r in rows_of(body)] == [1000001, 1000002, 1000003]
    assert zp.logins() == 1
    assert zp.sign_in.counts() == {"sso_page": 1, "sso_post": 1}

    saved = tmp_path / SESSION_FILE
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    text = saved.read_text()
    assert PASSWORD not in text
    assert json.loads(text)["cookies"]["phpbb3_lswlk_u"] == str(zp.user_ids[USER])

    second = make_client(zp, tmp_path)
    assert len(rows_of(run(lambda c: c.event_results(EVENT), second)[0])) == 3
    assert second.logins == 0
    assert zp.logins() == 1


def test_wrong_password_is_one_clear_error_and_one_attempt(
    zp: FakeZwiftPower, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(zp, tmp_path, zwiftpower_password=SecretStr("not-my-password"))

    async def many(c: ZwiftPowerClient) -> list[object]:
        return await asyncio.gather(*(c.event_results(EVENT) for _ in range(4)), return_exceptions=True)

    outcomes = run(many, client)
    assert all(isinstance(o, ZwiftPowerLoginError) for o in outcomes)
    message = str(outcomes[0])
    assert message.startswith(f"ZwiftPower login failed for {USER}: ")
    assert "Invalid username or password" in message
    assert "not-my-password" not in message and "not-my-password" not in caplog.text
    assert zp.sign_in.counts()["sso_post"] == 1
    assert zp.counts()["results_view"] == 0
    assert not (tmp_path / SESSION_FILE).exists()


def test_a_refused_login_keeps_zwifts_whole_message(zp: FakeZwiftPower, tmp_path: Path) -> None:
    zp.login_error = ('Invalid email or password. <a href="/auth/forgot">Forgot your <b>password</b>?</a> '
                      'Accounts are locked after 5 failed attempts.')
    try:
        with pytest.raises(ZwiftPowerLoginError) as refused:
            run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path, zwiftpower_password=SecretStr("nope")))
    finally:
        zp.login_error = "Invalid username or password."
    assert str(refused.value) == (f"ZwiftPower login failed for {USER}: Invalid email or password. Forgot your "
                                  "password? Accounts are locked after 5 failed attempts.")


def test_a_reused_session_file_is_made_owner_only(zp: FakeZwiftPower, tmp_path: Path) -> None:
    run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path))
    saved = tmp_path / SESSION_FILE
    saved.chmod(0o644)  # copied from elsewhere, or saved by an older tdz
    reused = make_client(zp, tmp_path)
    run(lambda c: c.event_results(EVENT), reused)
    assert reused.logins == 0 and stat.S_IMODE(saved.stat().st_mode) == 0o600


def test_expired_session_logs_in_again_once_for_all_tasks(zp: FakeZwiftPower, tmp_path: Path) -> None:
    run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path))
    zp.expire_sessions()
    zp.reset_log()

    async def many(c: ZwiftPowerClient) -> list[tuple[bytes, str]]:
        return await asyncio.gather(*(c.event_results(EVENT) for _ in range(4)))

    client = make_client(zp, tmp_path)
    answers = run(many, client)
    assert all(len(rows_of(body)) == 3 for body, _ in answers)
    assert client.logins == 1 and zp.logins() == 1
    # every task saw HTML once and retried once
    assert zp.counts()["results_view"] == 8


def test_a_session_lost_again_and_again_logs_in_again_with_backoff_up_to_the_limit(
    zp: FakeZwiftPower, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tdz.ingest.sources")

    async def session_lost_between_requests(c: ZwiftPowerClient) -> list[int]:
        rows = []
        for _ in range(3):
            rows.append(len(rows_of((await c.event_results(EVENT))[0])))
            zp.expire_sessions()
        with pytest.raises(FetchFailed, match=r"session lost again after 3 login\(s\) in this run "
                                              r"\(TDZ_ZWIFTPOWER_MAX_LOGINS=3\)"):
            await c.event_results(EVENT)
        return rows

    client = make_client(zp, tmp_path)
    assert run(session_lost_between_requests, client) == [3, 3, 3]
    assert client.logins == 3 and zp.logins() == 3
    assert [r.getMessage().split(";")[0] for r in caplog.records if "logging in again" in r.getMessage()] == [
        "ZwiftPower session lost", "ZwiftPower session lost"]


def test_html_right_after_a_fresh_login_fails_the_request(zp: FakeZwiftPower, tmp_path: Path) -> None:
    run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path))
    zp.reset_log()
    zp.add_faults("results_view", "html", "html")  # the saved session is fine; ZwiftPower sends HTML anyway
    with pytest.raises(FetchFailed, match="HTML page instead of JSON, even after a fresh login"):
        run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path))
    assert zp.logins() == 1


def test_credentials_go_only_to_the_form_with_a_password_and_zwifts_words_come_back_whole(
    zp: FakeZwiftPower, tmp_path: Path
) -> None:
    zp.add_user("locked@example.com", "right")
    zp.locked.add("locked@example.com")
    client = make_client(zp, tmp_path, zwiftpower_username="locked@example.com",
                         zwiftpower_password=SecretStr("right"))
    with pytest.raises(ZwiftPowerLoginError) as refused:
        run(lambda c: c.event_results(EVENT), client)
    assert str(refused.value) == ("ZwiftPower login failed for locked@example.com: Your account is temporarily "
                                  "disabled. Contact support or try again in 15 minutes.")
    assert zp.sign_in.counts()["locale"] == 0 and zp.sign_in.counts()["sso_post"] == 1

    zp.sign_in.asks_for_terms = True
    try:
        with pytest.raises(ZwiftPowerLoginError, match="no sign-in form with a password field"):
            run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path / "terms"))
    finally:
        zp.sign_in.asks_for_terms = False
    assert zp.sign_in.counts()["locale"] == 0  # nothing was posted anywhere


def test_pasted_cookie_replaces_the_login(zp: FakeZwiftPower, tmp_path: Path) -> None:
    run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path / "a"))
    cookies = json.loads((tmp_path / "a" / SESSION_FILE).read_text())["cookies"]
    pasted = "; ".join(f"{k}={v}" for k, v in cookies.items()) + "; _ga=GA1.2.3"
    assert parse_cookie_string(pasted)["_ga"] == "GA1.2.3"
    zp.reset_log()

    client = make_client(zp, tmp_path / "b", zwiftpower_username=None, zwiftpower_password=None,
                         zwiftpower_cookie=SecretStr(pasted))
    assert len(rows_of(run(lambda c: c.event_results(EVENT), client)[0])) == 3
    assert zp.logins() == 0

    zp.expire_sessions()
    stale = make_client(zp, tmp_path / "b", zwiftpower_username=None, zwiftpower_password=None,
                        zwiftpower_cookie=SecretStr(pasted))
    with pytest.raises(ZwiftPowerLoginError, match="pasted cookie.*expired"):
        run(lambda c: c.event_results(EVENT), stale)


def test_results_fall_back_to_api3_when_the_cache_file_is_missing(zp: FakeZwiftPower, tmp_path: Path) -> None:
    zp.view_missing.add(EVENT)
    body, url = run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path))
    assert url == f"/api3.php?do=event_results&zid={EVENT}"
    assert len(rows_of(body)) == 3
    assert zp.counts()["results_view"] == 1 and zp.counts()["event_results_api3"] == 1


def test_other_endpoints_answer_their_json(zp: FakeZwiftPower, tmp_path: Path) -> None:
    async def everything(c: ZwiftPowerClient) -> tuple[bytes, bytes, bytes]:
        return await c.recent_results(7), await c.rider_profile(1000001), await c.event_sprints(EVENT)

    listed, profile, sprints = run(everything, make_client(zp, tmp_path))
    assert rows_of(listed)[0]["zid"] == EVENT
    assert rows_of(profile)[0]["zwid"] == 1000001
    assert rows_of(sprints) == []
    assert zp.counts()["event_list"] == 1 and zp.counts()["rider_profile"] == 1


def test_429_waits_as_long_as_retry_after_says(zp: FakeZwiftPower, tmp_path: Path) -> None:
    run(lambda c: c.recent_results(7), make_client(zp, tmp_path))
    zp.add_faults("results_view", "429:0.3")
    body, _ = run(lambda c: c.event_results(EVENT), make_client(zp, tmp_path))
    assert len(rows_of(body)) == 3
    first, second = zp.times("results_view")
    assert second - first >= 0.3  # the backoff base would have been milliseconds


def test_500_then_ok_is_retried(zp: FakeZwiftPower, tmp_path: Path) -> None:
    zp.add_faults("event_sprints", "500")
    body = run(lambda c: c.event_sprints(EVENT), make_client(zp, tmp_path))
    assert rows_of(body) == []
    assert zp.counts()["event_sprints"] == 2


def test_timeout_is_retried_then_gives_up_after_the_cap(zp: FakeZwiftPower, tmp_path: Path) -> None:
    zp.add_faults("event_list", "sleep:0.5")
    assert rows_of(run(lambda c: c.recent_results(7), make_client(zp, tmp_path, request_timeout_seconds=0.2)))
    assert zp.counts()["event_list"] == 2  # the slow answer was given up on at 0.2 s and asked for again
    zp.reset_log()
    zp.add_faults("event_list", "sleep:0.4", "sleep:0.4", "sleep:0.4")
    with pytest.raises(FetchFailed, match=r"Timeout.*after 3 attempts"):
        run(lambda c: c.recent_results(7), make_client(zp, tmp_path, request_timeout_seconds=0.2))
    assert zp.counts()["event_list"] == 3  # max_retries 2 = three attempts, no more


def test_no_credentials_at_all_is_a_clear_error(zp: FakeZwiftPower, tmp_path: Path) -> None:
    client = make_client(zp, tmp_path, zwiftpower_username=None, zwiftpower_password=None)
    with pytest.raises(ZwiftPowerLoginError, match="TDZ_ZWIFTPOWER_USERNAME"):
        run(lambda c: c.event_results(EVENT), client)
    assert zp.sign_in.counts()["sso_post"] == 0


def test_zwift_events_api(zwift_api: FakeZwiftApi, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, zwift_api_url=zwift_api.url, requests_per_second=500)  # type: ignore[call-arg]

    async def both() -> tuple[bytes, Exception]:
        client = ZwiftEventsClient.from_settings(settings, FAST)
        try:
            found = await client.event(EVENT)
            try:
                await client.event(1)
            except NotFound as exc:
                return found, exc
            raise AssertionError("an unknown event must be NotFound")
        finally:
            await client.aclose()

    found, missing = asyncio.run(both())
    event = json.loads(found)
    assert event["id"] == EVENT and event["routeId"] > 2**31 - 1
    assert [g["subgroupLabel"] for g in event["eventSubgroups"]] == ["A", "B", "C", "D"]
    assert "404" in str(missing)


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 1, 6, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7", now) == 7
    assert parse_retry_after("Tue, 06 Jan 2026 12:00:30 GMT", now) == 30
    assert parse_retry_after((now - timedelta(minutes=1)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == 0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None
    assert parse_retry_after("nan", now) is None and parse_retry_after("inf", now) is None
    assert RetryPolicy(backoff_max_seconds=5).delay(0, parse_retry_after("3600", now)) == 5  # capped


def cli_env(zp: FakeZwiftPower, folder: Path, password: str) -> dict[str, str]:
    return {
        "TDZ_ZWIFTPOWER_URL": zp.url, "TDZ_ZWIFTPOWER_USERNAME": USER, "TDZ_ZWIFTPOWER_PASSWORD": password,
        "TDZ_ARCHIVE_DIR": str(folder), "TDZ_REQUESTS_PER_SECOND": "100", "TDZ_MAX_RETRIES": "0",
    }


def test_cli_check_prints_rows_read(zp: FakeZwiftPower, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["zwiftpower", "check", "--event", str(EVENT)], env=cli_env(zp, tmp_path, PASSWORD))
    assert result.exit_code == 0, result.output
    assert f"event {EVENT}: 3 result rows read" in result.output
    assert "logged in" in result.output


def test_cli_check_wrong_password_is_one_line(zp: FakeZwiftPower, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["zwiftpower", "check", "--event", str(EVENT)], env=cli_env(zp, tmp_path, "nope"))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [f"error: ZwiftPower login failed for {USER}: Invalid username or password."]
    assert "Traceback" not in result.output


def test_concurrency_is_bounded_and_requests_are_spaced(zp: FakeZwiftPower, tmp_path: Path) -> None:
    run(lambda c: c.recent_results(7), make_client(zp, tmp_path))
    zp.reset_log()
    zp.delay_seconds = 0.1

    async def many(c: ZwiftPowerClient) -> list[bytes]:
        return await asyncio.gather(*(c.event_sprints(EVENT) for _ in range(6)))

    run(many, make_client(zp, tmp_path, fetch_concurrency=2))
    assert zp.max_in_flight == 2  # in parallel, never more than the setting

    zp.reset_log()
    run(many, make_client(zp, tmp_path, requests_per_second=20))
    starts = zp.times("event_sprints")
    assert len(starts) == 6 and starts[-1] - starts[0] >= 5 / 20 - 0.02


def test_the_rate_limit_holds_after_a_stall(zp: FakeZwiftPower, tmp_path: Path) -> None:
    """Requests queued behind a stalled server leave no faster than the rate once it answers again."""
    run(lambda c: c.recent_results(7), make_client(zp, tmp_path))
    zp.reset_log()
    zp.add_faults("event_sprints", "sleep:1.6", "sleep:1.5", "sleep:1.4", "sleep:1.3")  # the 4 slots end together

    async def many(c: ZwiftPowerClient) -> list[bytes]:
        return await asyncio.gather(*(c.event_sprints(EVENT) for _ in range(14)))

    run(many, make_client(zp, tmp_path, requests_per_second=10, fetch_concurrency=4))
    starts = zp.times("event_sprints")
    after_stall = starts[4:]
    assert len(after_stall) == 10
    gaps = [b - a for a, b in zip(after_stall, after_stall[1:])]
    assert min(gaps) >= 0.1 * 0.8, gaps  # 10 per second, spaced; before: a burst within milliseconds

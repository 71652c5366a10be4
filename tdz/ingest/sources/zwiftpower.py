"""ZwiftPower: the Zwift SSO login, the session kept between runs, and the JSON endpoints behind the site.

ZwiftPower has no API and no 401: a logged-out request for a JSON URL answers 200 with an HTML page. So every
JSON answer is checked; HTML means the session expired, and the client logs in again (once, whatever the number
of tasks that noticed) and retries. A session lost again later in the run logs in again, with backoff, up to
`max_logins` logins a run (TDZ_ZWIFTPOWER_MAX_LOGINS). A wrong password is one `ZwiftPowerLoginError` carrying
Zwift's own words, raised to every caller afterwards without another attempt, so a bad credential never turns
into a storm of logins. Credentials are posted only to the sign-in form: the form with a password input.

The session cookies are kept in `<archive_dir>/.zwiftpower-session.json` (owner-only) so an hourly run reuses
them instead of logging in every time. A pasted browser cookie (`TDZ_ZWIFTPOWER_COOKIE`) replaces the login.
"""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from collections import Counter
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from pydantic import SecretStr

from tdz.errors import TdzError
from tdz.files import atomic_write
from tdz.ingest.sources.http import FetchFailed, NotFound, PoliteClient
from tdz.ingest.wire import is_empty_results
from tdz.retry import RetryPolicy
from tdz.settings import Settings

log = logging.getLogger("tdz.ingest.sources")
LOGIN_URL = "/ucp.php?mode=login&login=external&oauth_service=oauthzpsso"
SESSION_FILE = ".zwiftpower-session.json"
SID_COOKIE = "phpbb3_lswlk_sid"
USER_COOKIE = "phpbb3_lswlk_u"
ANONYMOUS_USERS = ("", "1")


class ZwiftPowerLoginError(TdzError):
    """The login (or the pasted cookie) did not give a ZwiftPower session. Never retried."""


VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


class _LoginForm(HTMLParser):
    """The Keycloak page's forms (action, inputs and which input takes the password; attribute values arrive
    HTML-unescaped) and its error text, whole: everything inside the error element, links and emphasis included."""

    ERROR_IDS = ("input-error", "kc-error-message")

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str], str]] = []
        self._error_text = ""
        self._error_depth = 0  # open elements inside (and including) the error element; 0 = outside it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}, ""))
        elif tag == "input" and self.forms and values.get("name"):
            action, inputs, password = self.forms[-1]
            inputs[values["name"]] = values.get("value", "")
            if values.get("type", "").lower() == "password":
                self.forms[-1] = (action, inputs, values["name"])
        if tag in VOID_TAGS:
            return
        if self._error_depth:
            self._error_depth += 1
        elif values.get("id") in self.ERROR_IDS or "kc-feedback-text" in values.get("class", ""):
            self._error_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self._error_depth and tag not in VOID_TAGS:
            self._error_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._error_depth:
            self._error_text += data

    @property
    def error(self) -> str:
        return " ".join(self._error_text.split())

    def login_form(self) -> tuple[str, dict[str, str], str] | None:
        """The sign-in form: the one with a password input (credentials are never posted to any other form)."""
        return next(((a, i, p) for a, i, p in self.forms if a and p), None)


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    """ZwiftPower's way of saying "not logged in" on a JSON URL."""
    return "html" in content_type.lower() or body.lstrip()[:1] == b"<"


def parse_cookie_string(text: str) -> dict[str, str]:
    """`k=v; k=v` as pasted from a browser's request headers."""
    cookies: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name.strip():
            cookies[name.strip()] = value.strip()
    return cookies


class ZwiftPowerClient:
    """Logged-in access to ZwiftPower's JSON; every method returns the body exactly as fetched."""

    def __init__(
        self,
        http: PoliteClient,
        *,
        username: str | None = None,
        password: SecretStr | None = None,
        cookie: SecretStr | None = None,
        session_file: Path | None = None,
        max_logins: int = 1,
    ) -> None:
        self.http = http
        self.username = username
        self._password = password
        self.session_file = session_file
        self.max_logins = max_logins
        self.logins = 0
        self._generation = 0
        self._lock = asyncio.Lock()
        self._login_error: ZwiftPowerLoginError | None = None
        self._host = urlsplit(http.base_url).hostname or ""
        if cookie is not None and cookie.get_secret_value().strip():
            self._set_cookies(parse_cookie_string(cookie.get_secret_value()))
            self._source = "pasted cookie"
        elif self._load_session():
            self._source = "saved session"
        else:
            self._source = ""

    @classmethod
    def from_settings(
        cls, settings: Settings, retry: RetryPolicy | None = None, counts: Counter[str] | None = None
    ) -> ZwiftPowerClient:
        return cls(
            PoliteClient.for_settings(settings.zwiftpower_url, settings, retry, counts),
            username=settings.zwiftpower_username,
            password=settings.zwiftpower_password,
            cookie=settings.zwiftpower_cookie,
            session_file=Path(settings.archive_dir) / SESSION_FILE,
            max_logins=settings.zwiftpower_max_logins,
        )

    @property
    def can_log_in(self) -> bool:
        return bool(self.username and self._password and self._password.get_secret_value())

    def _who(self) -> str:
        return self.username or ("a pasted cookie" if self._source == "pasted cookie" else "(no username set)")

    def _fail(self, why: str) -> ZwiftPowerLoginError:
        self._login_error = ZwiftPowerLoginError(f"ZwiftPower login failed for {self._who()}: {why}")
        return self._login_error

    def _cookie(self, name: str) -> str | None:
        for c in self.http.client.cookies.jar:
            if c.name == name and self._host.endswith(c.domain.lstrip(".")):
                return c.value
        return None

    def logged_in(self) -> bool:
        user = self._cookie(USER_COOKIE)
        return bool(self._cookie(SID_COOKIE)) and user is not None and user not in ANONYMOUS_USERS

    async def login(self) -> None:
        """The Zwift SSO dance: ucp.php → Keycloak form → post → back to ZwiftPower with phpBB cookies."""
        if self._login_error is not None:
            raise self._login_error
        if not self.can_log_in:
            raise self._fail(
                "no session and no password: set TDZ_ZWIFTPOWER_USERNAME and TDZ_ZWIFTPOWER_PASSWORD "
                "(or paste a browser cookie into TDZ_ZWIFTPOWER_COOKIE)"
            )
        if self.logins >= self.max_logins:
            raise FetchFailed(LOGIN_URL, f"session lost again after {self.logins} login(s) in this run "
                                         f"(TDZ_ZWIFTPOWER_MAX_LOGINS={self.max_logins})")
        if self.logins:  # the session was lost mid-run: give ZwiftPower a moment before signing in again
            delay = self.http.retry.delay(self.logins - 1)
            log.info("ZwiftPower session lost; logging in again in %.1f s (login %d of at most %d)", delay,
                     self.logins + 1, self.max_logins)
            await asyncio.sleep(delay)
        self.logins += 1
        try:
            page = await self.http.get(LOGIN_URL, "login")
            if self.logged_in():  # Zwift still knew us: the redirects came straight back
                self._logged_in()
                return
            form = _LoginForm()
            form.feed(page.text)
            found = form.login_form()
            if found is None:
                raise self._fail(f"no sign-in form with a password field on the Zwift sign-in page ({page.url})")
            action, inputs, password_field = found
            fields = {**inputs, "username": self.username or "", password_field: self._password_text()}
            answer = await self.http.request(
                "POST", urljoin(str(page.url), action), "login", retries=False, data=fields
            )
        except FetchFailed as exc:  # the site is down, not the login refused: the caller may try again later
            raise FetchFailed(exc.url, f"the Zwift sign-in did not answer: {exc.reason}", exc.status) from None
        if not self.logged_in():
            reply = _LoginForm()
            reply.feed(answer.text)
            raise self._fail(reply.error or "Zwift did not accept the username and password")
        self._logged_in()

    def _logged_in(self) -> None:
        self._generation += 1
        self._source = "login"
        self._save_session()

    def _password_text(self) -> str:
        return self._password.get_secret_value() if self._password else ""

    async def _ensure_session(self) -> int:
        async with self._lock:
            if self._login_error is not None:
                raise self._login_error
            if not self._source and not self.logged_in() and self.can_log_in:
                await self.login()
            return self._generation

    async def _relogin(self, seen_generation: int) -> None:
        async with self._lock:
            if self._login_error is not None:
                raise self._login_error
            if self._generation != seen_generation:
                return
            if not self.can_log_in:
                why = "the pasted cookie's session has expired" if self._source == "pasted cookie" else "not logged in"
                raise self._fail(f"{why}; set TDZ_ZWIFTPOWER_USERNAME and TDZ_ZWIFTPOWER_PASSWORD")
            await self.login()

    async def get_json(self, url: str, endpoint: str) -> bytes:
        """A JSON body; HTML (an expired session) → one re-login and one retry."""
        generation = await self._ensure_session()
        response = await self.http.get(url, endpoint)
        if not looks_like_html(response.content, response.headers.get("content-type", "")):
            return response.content
        await self._relogin(generation)
        response = await self.http.get(url, endpoint)
        if looks_like_html(response.content, response.headers.get("content-type", "")):
            raise FetchFailed(url, "ZwiftPower answered an HTML page instead of JSON, even after a fresh login")
        return response.content

    async def event_results(self, zid: int) -> tuple[bytes, str]:
        """Full results (`_view.json`), or the dynamic `api3` answer when the cache file is missing or empty."""
        view = f"/cache3/results/{zid}_view.json"
        try:
            body = await self.get_json(view, "results_view")
            if not is_empty_results(body):
                return body, view
        except NotFound:
            pass
        api3 = f"/api3.php?do=event_results&zid={zid}"
        return await self.get_json(api3, "event_results_api3"), api3

    async def results_zwift(self, zid: int) -> bytes:
        """The slim results, which keep riders ZwiftPower disqualified or upgraded (`dq_cat`)."""
        return await self.get_json(f"/cache3/results/{zid}_zwift.json", "results_zwift")

    async def event_sprints(self, zid: int) -> bytes:
        return await self.get_json(f"/api3.php?do=event_sprints&zid={zid}", "event_sprints")

    async def recent_results(self, days: int) -> bytes:
        """Events with results in the last `days` days (discovery and change detection)."""
        return await self.get_json(f"/cache3/lists/0_zwift_event_list_results_{days}.json", "event_list")

    async def rider_profile(self, zwid: int) -> bytes:
        return await self.get_json(f"/cache3/profile/{zwid}_all.json", "rider_profile")

    def _set_cookies(self, cookies: dict[str, str]) -> None:
        for name, value in cookies.items():
            self.http.client.cookies.set(name, value, domain=self._host, path="/")

    def _load_session(self) -> bool:
        if self.session_file is None or not self.session_file.exists():
            return False
        try:
            saved = json.loads(self.session_file.read_text(encoding="utf-8"))
            if saved.get("user") != self.username or not isinstance(saved.get("cookies"), dict):
                return False
            self._set_cookies({str(k): str(v) for k, v in saved["cookies"].items()})
            if stat.S_IMODE(self.session_file.stat().st_mode) & 0o077:  # copied in, or saved by an older tdz
                self.session_file.chmod(0o600)
        except (OSError, ValueError, AttributeError):
            return False
        return self.logged_in()

    def _save_session(self) -> None:
        if self.session_file is None:
            return
        cookies = {
            c.name: c.value or ""
            for c in self.http.client.cookies.jar
            if self._host.endswith(c.domain.lstrip(".")) and c.name.startswith("phpbb3_")
        }
        body = json.dumps(
            {"user": self.username, "saved_at": datetime.now(timezone.utc).isoformat(), "cookies": cookies}
        )
        atomic_write(self.session_file, body.encode(), mode=0o600)

    async def aclose(self) -> None:
        await self.http.aclose()

"""Reaching a Google Sheet: the service-account key, the gspread client, retries, and `check_sheet`.

The key comes from `TDZ_GOOGLE_SERVICE_ACCOUNT_JSON` (the key's JSON text) or `TDZ_GOOGLE_SERVICE_ACCOUNT_FILE`.
gspread builds its URLs from a fixed `https://sheets.googleapis.com`; the session given to its public constructor
rewrites that prefix to `settings.sheets_api_url`, so tests and proxies reach the same code path as production.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gspread
import requests
from google.auth.exceptions import GoogleAuthError, RefreshError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.service_account import Credentials
from urllib3.exceptions import NewConnectionError

from tdz.errors import TdzError
from tdz.publish.tables import ORGANISER_TABS
from tdz.publish.workbook import WorkbookCalls
from tdz.retry import RetryPolicy, parse_retry_after, retryable
from tdz.settings import Settings

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_SHEETS_URL = "https://sheets.googleapis.com"
SHEETS_BACKOFF_MAX_SECONDS = 32.0
"""Google's quotas are per minute: waiting longer than this between two tries of one request gains nothing."""
KEY_HELP = "create a JSON key in Google Cloud console → IAM & Admin → Service accounts → Keys"


class SheetsError(TdzError, RuntimeError):
    """The Sheet cannot be used; the message says what to do about it."""


class SheetKeyError(SheetsError):
    """The service-account key is missing, unreadable, or refused by Google."""


NOT_IDEMPOTENT = ("appendCells", "addSheet", "deleteSheet", "duplicateSheet", "insertDimension", "appendDimension",
                  "addProtectedRange")
"""batchUpdate requests that do something else when sent twice: rows appended twice, a tab added twice (refused,
"already exists"), a tab deleted twice."""


class NotSentAgain(requests.RequestException):
    """A request that may have taken effect (it timed out, or the server failed mid-way) and would do harm if sent
    again, so it was not retried."""


def _not_idempotent(method: str, kwargs: Mapping[str, Any]) -> str | None:
    """The first request of a batchUpdate body that must not be sent twice, if any."""
    if method.lower() == "get":
        return None
    body = kwargs.get("json")
    if isinstance(body, Mapping):
        return next((name for r in body.get("requests", []) for name in r if name in NOT_IDEMPOTENT), None)
    data = kwargs.get("data")
    if isinstance(data, bytes):  # compact JSON: a request name can only appear as `{"name":` outside strings
        return next((name for name in NOT_IDEMPOTENT if b'{"%s":' % name.encode() in data), None)
    return None


def _never_sent(err: requests.RequestException) -> bool:
    """The connection was refused or never made: the server cannot have seen the request."""
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(err, requests.ConnectTimeout) or isinstance(reason, NewConnectionError)


class RetryingHTTPClient(gspread.HTTPClient):
    """gspread's HTTP client retrying as `tdz.retry` says (a blocking sleep); `retry` and `counter` are set after
    construction.

    A request that is not idempotent (appending rows, adding or deleting a tab: `NOT_IDEMPOTENT`) is retried only
    when Google cannot have applied it: a 429 (refused by the quota before anything ran) or a connection that was
    never made. After a timeout or a server error it may have landed; sending it again could append rows twice,
    so it fails with `NotSentAgain` and the next run reads what is there."""

    retry: RetryPolicy = RetryPolicy(backoff_max_seconds=SHEETS_BACKOFF_MAX_SECONDS)
    counter: WorkbookCalls

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        counter = getattr(self, "counter", None) or WorkbookCalls()
        self.counter = counter
        once = _not_idempotent(method, kwargs)
        attempt = 0
        while True:
            if method.lower() == "get":
                counter.reads += 1
            else:
                counter.writes += 1
            counter.log.append(f"{method.upper()} {endpoint}")
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except gspread.exceptions.APIError as err:
                status = err.response.status_code
                if not retryable(status) or attempt >= self.retry.max_retries:
                    raise
                if once and status != 429:
                    raise NotSentAgain(f"Google Sheets answered HTTP {status} to a request that may have been "
                                       f"applied ({once}): not sent again") from err
                wait = self.retry.delay(attempt, parse_retry_after(err.response.headers.get("Retry-After")))
            except (requests.ConnectionError, requests.Timeout) as err:
                if attempt >= self.retry.max_retries:
                    raise
                if once and not _never_sent(err):
                    raise NotSentAgain(f"Google Sheets did not answer in time ({type(err).__name__}) a request that "
                                       f"may have been applied ({once}): not sent again") from err
                wait = self.retry.delay(attempt)
            counter.retries += 1
            attempt += 1
            time.sleep(wait)


class RebasedSession(AuthorizedSession):
    """An authorized session that sends `https://sheets.googleapis.com/...` to `api_url` instead."""

    def __init__(self, credentials: Credentials, api_url: str) -> None:
        super().__init__(credentials)
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if url.startswith(GOOGLE_SHEETS_URL) and self.api_url != GOOGLE_SHEETS_URL:
            url = self.api_url + url[len(GOOGLE_SHEETS_URL):]
        return super().request(method, url, *args, **kwargs)


def key_info(settings: Settings) -> dict[str, Any]:
    """The service-account key as a dict, from the JSON setting or the file; `SheetKeyError` says what is wrong."""
    if settings.google_service_account_json is not None:
        text, origin = settings.google_service_account_json.get_secret_value(), "TDZ_GOOGLE_SERVICE_ACCOUNT_JSON"
    elif settings.google_service_account_file is not None:
        path = settings.google_service_account_file
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise SheetKeyError(f"bad key: cannot read the service-account key file {path} ({err.strerror})") from None
    else:
        raise SheetKeyError("no service-account key: set TDZ_GOOGLE_SERVICE_ACCOUNT_FILE (a path) or "
                        f"TDZ_GOOGLE_SERVICE_ACCOUNT_JSON (the key's JSON); {KEY_HELP}")
    try:
        info = json.loads(text)
    except ValueError as err:
        raise SheetKeyError(f"bad key: {origin} is not JSON ({err.msg} at line {err.lineno}); {KEY_HELP}") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise SheetKeyError(f"bad key: {origin} is not a service-account key (\"type\": \"service_account\"); {KEY_HELP}")
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise SheetKeyError(f"bad key: {origin} lacks {', '.join(missing)}; {KEY_HELP}")
    return info


def credentials(info: Mapping[str, Any]) -> Credentials:
    try:
        return Credentials.from_service_account_info(dict(info), scopes=list(SCOPES))
    except (ValueError, GoogleAuthError) as err:
        raise SheetKeyError(f"bad key: the private_key of {info.get('client_email')} cannot be read ({err}); "
                        f"{KEY_HELP}") from None


def make_client(settings: Settings, creds: Credentials, retry: RetryPolicy | None = None) -> gspread.Client:
    """The real gspread client, pointed at `settings.sheets_api_url`, with bounded retries."""
    client = gspread.Client(creds, session=RebasedSession(creds, settings.sheets_api_url),
                            http_client=RetryingHTTPClient)
    http = client.http_client
    assert isinstance(http, RetryingHTTPClient)
    http.retry = retry or RetryPolicy.from_settings(settings, backoff_max_seconds=SHEETS_BACKOFF_MAX_SECONDS)
    http.counter = WorkbookCalls()
    client.set_timeout(settings.request_timeout_seconds)
    return client


def explain(err: Exception, sheet_id: str, email: str) -> str:
    """One sentence saying what went wrong talking to the Sheet and what to do."""
    if isinstance(err, RefreshError):
        detail = err.args[0] if err.args else err
        return (f"bad key: Google refused the key of {email} ({detail}); the key may have been deleted or "
                f"revoked: {KEY_HELP}")
    if isinstance(err, gspread.exceptions.APIError):
        status = err.response.status_code
        if status == 404:
            return f"Sheet {sheet_id} not found: check TDZ_SHEET_ID (the Sheet's id or its full URL)"
        if status == 403:
            return f"share the Sheet with {email} as Editor (Share → add the address → Editor)"
        if status == 401:
            return f"bad key: Google did not accept the access token of {email}; {KEY_HELP}"
        if status == 429:
            return "Google Sheets quota exceeded (60 writes per minute per service account); try again in a minute"
        return f"Google Sheets API error {status}: {err.error.get('message', '')}"
    if isinstance(err, NotSentAgain):
        return f"{err}, as sending it twice could do it twice; the next run reads what landed"
    if isinstance(err, requests.RequestException):
        return f"cannot reach the Google Sheets API ({type(err).__name__}: {err})"
    return f"{type(err).__name__}: {err}"


@dataclass
class SheetCheck:
    """What `tdz sheet check` found: `problems` empty means tdz can read and write the Sheet."""

    problems: list[str] = field(default_factory=list)
    service_account: str = ""
    title: str = ""
    tabs: list[str] = field(default_factory=list)
    missing_organiser_tabs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_sheet(settings: Settings, *, write_probe: bool = True) -> SheetCheck:
    """Key, Sheet id and sharing, checked in that order; stops at the first thing that is wrong.

    With `write_probe`, a no-op write (the Sheet's title set to itself) proves Editor access: a Viewer share
    reads fine and would only fail at the first publish.
    """
    result = SheetCheck()
    if not settings.sheet_id:
        result.problems.append("TDZ_SHEET_ID is not set: paste the Sheet's URL or id")
        return result
    try:
        info = key_info(settings)
        result.service_account = info["client_email"]
        retry = RetryPolicy(max_retries=1, backoff_base_seconds=0.5, backoff_max_seconds=SHEETS_BACKOFF_MAX_SECONDS)
        client = make_client(settings, credentials(info), retry)
    except SheetsError as err:
        result.problems.append(str(err))
        return result
    try:
        meta = client.http_client.fetch_sheet_metadata(settings.sheet_id)
        sheets = meta.get("sheets", [])
        result.title = meta.get("properties", {}).get("title", "")
        result.tabs = [s["properties"]["title"] for s in sheets]
        if write_probe:
            client.http_client.batch_update(settings.sheet_id, {"requests": [{"updateSpreadsheetProperties": {
                "properties": {"title": result.title}, "fields": "title"}}]})
    except (gspread.exceptions.APIError, GoogleAuthError, requests.RequestException) as err:
        result.problems.append(explain(err, settings.sheet_id, result.service_account))
        return result
    folded = {t.casefold() for t in result.tabs}
    result.missing_organiser_tabs = [n for n in ORGANISER_TABS if n.casefold() not in folded]
    return result

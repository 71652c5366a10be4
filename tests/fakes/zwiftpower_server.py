"""A fake ZwiftPower and a fake Zwift sign-in (Keycloak), as two servers sharing one state.

Login, as the real site does it: `GET /ucp.php?mode=login&login=external&oauth_service=oauthzpsso` sets anonymous
phpBB cookies (`u=1`) and redirects to the sign-in server's auth page; that page holds a form whose action has
`&amp;`-escaped query parameters and hidden inputs; posting good credentials redirects back to ucp.php with a
code, which sets `phpbb3_lswlk_u=<user id>` and a new `phpbb3_lswlk_sid`. Bad credentials answer the form again
with an error. JSON URLs answer a logged-out client 200 with an HTML page.
"""

from __future__ import annotations

import html
import itertools
from datetime import datetime
from typing import Any

from tests.fakes import Answer, FakeServer, html_answer, json_answer, redirect

LOGIN_PATH = "/ucp.php"
AUTH_PATH = "/auth/realms/zwift/protocol/openid-connect/auth"
AUTHENTICATE_PATH = "/auth/realms/zwift/login-actions/authenticate"


def view_row(zid: int, zwid: int, name: str, pos: int, category: str, seconds: float, **extra: Any) -> dict:
    """A `_view.json` row as ZwiftPower writes it: pairs, strings, escaped names, `flag` = country."""
    label = str("ABCDE".index(category) + 1)
    row = {
        "zid": str(zid), "pos": pos, "position_in_cat": pos, "label": label, "category": category,
        "div": 10 * int(label), "divw": 0, "name": html.escape(name), "zwid": zwid,
        "time": [seconds, 0], "time_gun": round(seconds + 0.12 * (int(label) - 1), 3), "male": 1,
        "age": "Mas", "flag": "gb", "weight": ["72.0", 0], "height": [180, 0], "tid": "", "tname": "",
        "avg_power": [250, 0], "avg_wkg": ["3.5", 0], "np": [255, 0], "w1200": ["262", 0],
        "penalty": "", "fl": "", "upg": 0,
    }
    row.update(extra)
    return row


def zwift_row(view: dict, dq_cat: str = "") -> dict:
    """The slim `_zwift.json` row of a result: `zwid` and `pos` as strings, `dq_cat` for DQs and upgrades."""
    return {"zid": view["zid"], "zwid": str(view["zwid"]), "pos": str(view["pos"]), "name": view["name"],
            "category": view["category"], "time": view["time"][0], "dq_cat": dq_cat}


def sprint_row(view: dict, segment_seconds: dict[str, float]) -> dict:
    return {"zwid": view["zwid"], "name": view["name"], "label": view["label"], "category": view["category"],
            "male": view["male"], "msec": segment_seconds,
            "watts": {k: "250" for k in segment_seconds}, "wkg": {k: "3.5" for k in segment_seconds}}


def list_row(zid: int, title: str, start: datetime, riders: int = 10) -> dict:
    """A row of `0_zwift_event_list_results_<N>.json`."""
    return {"DT_RowId": str(zid), "zid": zid, "t": html.escape(title), "tm": int(start.timestamp()), "r": riders}


class FakeSignIn(FakeServer):
    """The Keycloak side of the Zwift SSO (its own port, as it is its own host in real life)."""

    def __init__(self, zp: FakeZwiftPower) -> None:
        super().__init__()
        self.zp = zp
        self.asks_for_terms = False

    def route(self, method: str, path: str, query: dict[str, str], cookies: dict[str, str],
              form: dict[str, str]) -> tuple[str, Answer]:
        if method == "GET" and path == AUTH_PATH:
            return "sso_page", self._terms_page() if self.asks_for_terms else self._form_page("")
        if method == "POST" and path == AUTHENTICATE_PATH:
            if query.get("client_id") != "zwiftpower-public" or query.get("tab_id") != "t-1" or not query.get(
                "execution"
            ):
                return "sso_post", html_answer("<html>bad request: form action not unescaped</html>", status=400)
            if form.get("credentialId") != "" or "rememberMe" not in form:
                return "sso_post", html_answer("<html>bad request: hidden inputs missing</html>", status=400)
            user = form.get("username", "")
            if self.zp.users.get(user) != form.get("password"):
                return "sso_post", self._form_page(self.zp.login_error)
            if user in self.zp.locked:
                return "sso_post", self._form_page(
                    "Your account is temporarily disabled. <strong>Contact support</strong> or try again in 15 "
                    "minutes.")
            code = self.zp.issue_code(user)
            back = f"{self.zp.url}{LOGIN_PATH}?mode=login&login=external&oauth_service=oauthzpsso&code={code}"
            return "sso_post", redirect(back, ("KEYCLOAK_SESSION=abc; Path=/auth/realms/zwift/",))
        if path.endswith("/locale"):
            return "locale", html_answer("<html>language set</html>")
        return "sso_other", html_answer("<html>not found</html>", status=404)

    def _terms_page(self) -> Answer:
        """What Zwift shows when it wants something else first: a form, but no password field."""
        page = (f'<html><body><form action="{self.url}/auth/realms/zwift/locale" method="post">'
                '<input type="hidden" name="accept_terms" value="yes"/><input type="submit" value="Accept"/>'
                "</form></body></html>")
        return html_answer(page)

    def _form_page(self, error: str) -> Answer:
        action = (f"{self.url}{AUTHENTICATE_PATH}?session_code=sc-9&amp;execution=ex-42"
                  "&amp;client_id=zwiftpower-public&amp;tab_id=t-1")
        shown = f'<span id="input-error" class="kc-feedback-text">{error}</span>' if error else ""
        page = f"""<!DOCTYPE html><html><head><title>Sign in to Zwift</title></head><body>
<form id="kc-select-lang" action="{self.url}/auth/realms/zwift/locale" method="post">
<input type="hidden" name="kc_locale" value="en"/><input type="hidden" name="username" value=""/></form>
<div id="kc-form">{shown}
<form id="kc-form-login" onsubmit="login.disabled = true; return true;" action="{action}" method="post">
<input tabindex="1" id="username" name="username" value="" type="text" autofocus autocomplete="off"/>
<input tabindex="2" id="password" name="password" type="password" autocomplete="off"/>
<input type="hidden" id="id-hidden-input" name="credentialId" value=""/>
<input type="checkbox" id="rememberMe" name="rememberMe" value="on" checked/>
<input tabindex="4" name="login" id="kc-login" type="submit" value="Log In"/>
</form></div></body></html>"""
        return html_answer(page, headers=(("Set-Cookie", "AUTH_SESSION_ID=as-1; Path=/auth/realms/zwift/"),))


class FakeZwiftPower(FakeServer):
    """ZwiftPower's JSON behind a phpBB session. Put results in `results`, `slim`, `sprints`, `event_list`."""

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, str] = {}
        self.locked: set[str] = set()  # right password, but Zwift refuses the account
        self.user_ids: dict[str, int] = {}
        self.sessions: dict[str, str] = {}
        self.results: dict[int, list[dict]] = {}
        self.view_missing: set[int] = set()
        self.slim: dict[int, list[dict]] = {}
        self.sprints: dict[int, list[dict]] = {}
        self.event_list: list[dict] = []
        self.profiles: dict[int, dict] = {}
        self.login_error = "Invalid username or password."
        """The sign-in page's words (HTML allowed) for a refused password."""
        self._codes: dict[str, str] = {}
        self._ids = itertools.count(1)
        self.sign_in = FakeSignIn(self)

    def start(self) -> FakeZwiftPower:
        super().start()
        self.sign_in.start()
        return self

    def stop(self) -> None:
        self.sign_in.stop()
        super().stop()

    def add_user(self, username: str, password: str) -> None:
        self.users[username] = password
        self.user_ids[username] = 1000 + len(self.users)

    def issue_code(self, user: str) -> str:
        code = f"code-{next(self._ids)}"
        self._codes[code] = user
        return code

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def logins(self) -> int:
        """Completed logins: each one ends with a code exchanged on ucp.php."""
        return self.counts()["login_return"]

    def reset_log(self) -> None:
        super().reset_log()
        self.sign_in.reset_log()

    def route(self, method: str, path: str, query: dict[str, str], cookies: dict[str, str],
              form: dict[str, str]) -> tuple[str, Answer]:
        if path == LOGIN_PATH:
            return self._login(query)
        user = self.sessions.get(cookies.get("phpbb3_lswlk_sid", ""))
        logged_in = user is not None and cookies.get("phpbb3_lswlk_u") == str(self.user_ids.get(user))
        endpoint, payload = self._json(path, query)
        if endpoint == "other":
            return endpoint, html_answer("<html><body>ZwiftPower</body></html>")
        if not logged_in:
            return endpoint, html_answer(
                "<!DOCTYPE html><html><head><title>ZwiftPower - Login required</title></head></html>"
            )
        if payload is None:
            return endpoint, html_answer("<html>404 Not Found</html>", status=404)
        return endpoint, json_answer(payload)

    def _login(self, query: dict[str, str]) -> tuple[str, Answer]:
        code = query.get("code")
        if code is None:
            anonymous = ("phpbb3_lswlk_u=1; Path=/", f"phpbb3_lswlk_sid=anon{next(self._ids)}; Path=/")
            target = (f"{self.sign_in.url}{AUTH_PATH}?client_id=zwiftpower-public&response_type=code"
                      f"&redirect_uri={self.url}{LOGIN_PATH}")
            return "login_start", redirect(target, anonymous)
        user = self._codes.pop(code, None)
        if user is None:
            return "login_return", html_answer("<html>invalid code</html>", status=400)
        sid = f"sid{next(self._ids)}"
        self.sessions[sid] = user
        cookies = (f"phpbb3_lswlk_u={self.user_ids[user]}; Path=/; HttpOnly", f"phpbb3_lswlk_sid={sid}; Path=/")
        return "login_return", redirect("/events.php", cookies)

    def _json(self, path: str, query: dict[str, str]) -> tuple[str, Any]:
        if path.startswith("/cache3/results/") and path.endswith("_view.json"):
            zid = int(path.rsplit("/", 1)[1].split("_")[0])
            rows = None if zid in self.view_missing else self.results.get(zid)
            return "results_view", None if rows is None else {"data": rows}
        if path.startswith("/cache3/results/") and path.endswith("_zwift.json"):
            zid = int(path.rsplit("/", 1)[1].split("_")[0])
            return "results_zwift", {"data": self.slim[zid]} if zid in self.slim else None
        if path == "/api3.php" and query.get("do") == "event_results":
            return "event_results_api3", {"data": self.results.get(int(query.get("zid", "0")), [])}
        if path == "/api3.php" and query.get("do") == "event_sprints":
            return "event_sprints", {"data": self.sprints.get(int(query.get("zid", "0")), [])}
        if path.startswith("/cache3/lists/0_zwift_event_list_results_"):
            return "event_list", {"data": self.event_list}
        if path.startswith("/cache3/profile/"):
            zwid = int(path.rsplit("/", 1)[1].split("_")[0])
            return "rider_profile", self.profiles.get(zwid)
        return "other", None

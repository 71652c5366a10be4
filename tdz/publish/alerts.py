"""Alerts: a short message to a chat webhook when a run fails, with every secret kept out of it.

One payload shape serves both Slack and Discord incoming webhooks: Slack reads `text`, Discord reads `content`,
and each ignores the other's key. Errors while posting are returned as text that never holds the webhook URL (its
path is the webhook's password).
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from tdz.settings import Settings

MAX_ERROR_CHARS = 600
REDACTED = "***"


def secret_values(settings: Settings, *extra: SecretStr | str | None) -> list[str]:
    """Every secret the settings (and `extra`) hold, as plain text, longest first so overlaps redact whole."""
    found = [settings.zwiftpower_password, settings.zwiftpower_cookie, settings.google_service_account_json,
             settings.webhook_url, *extra]
    values: set[str] = set()
    for secret in found:
        text = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        if not text:
            continue
        values.add(text)
        if settings.google_service_account_json is not None and secret is settings.google_service_account_json:
            values.update(_key_parts(text))
        values.update(part for part in text.split(";") if "=" in part and len(part.strip()) > 8)
    return sorted((v.strip() for v in values if len(v.strip()) >= 4), key=len, reverse=True)


def _key_parts(text: str) -> list[str]:
    """The private parts of a service-account key, so a key quoted in part is redacted too."""
    import json

    try:
        info = json.loads(text)
    except ValueError:
        return []
    if not isinstance(info, dict):
        return []
    parts = [str(info.get(k, "")) for k in ("private_key", "private_key_id")]
    lines = [line for line in str(info.get("private_key", "")).splitlines() if len(line) > 16]
    return [p for p in parts + lines if p]


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def alert_text(season: str, error: str, link: str, flow: str = "run", state: str = "Failed") -> str:
    """One short message: which season, what failed, the flow run link, the error (first lines only)."""
    error = " ".join(error.split())
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 1] + "…"
    return f":warning: tdz {flow} for {season or 'an unknown season'}: {state}\n{error or 'no error message'}\n{link}"


def webhook_payload(text: str) -> dict[str, str]:
    """`text` for Slack, `content` for Discord; both ignore the key they do not know."""
    return {"text": text, "content": text}


def post_alert(url: SecretStr, payload: dict[str, str], timeout_seconds: float = 10.0) -> str | None:
    """POST the payload; None when the webhook took it, else why not (never the URL)."""
    try:
        response = httpx.post(url.get_secret_value(), json=payload, timeout=timeout_seconds)
    except httpx.HTTPError as exc:
        return f"the alert webhook did not answer ({type(exc).__name__})"
    if response.status_code >= 400:
        return f"the alert webhook refused the message (HTTP {response.status_code})"
    return None

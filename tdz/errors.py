"""The faults a user can cause and fix, as one exception family.

Every `TdzError` message is one line saying what is wrong, where, and what to do about it. The CLI prints it and
exits non-zero (the traceback only with `--debug`); a Prefect flow run fails with it as its state message, so the
failure alert carries the same line. Anything that is not a `TdzError` is a bug and keeps its traceback.
"""

from __future__ import annotations


class TdzError(Exception):
    """A fault the user can fix; the message is one line (what, where, what to do)."""


class SettingsError(TdzError):
    """A TDZ_* setting (environment, `.env` or a deployments/<target>.toml file) that cannot be used."""


class RunRequestError(TdzError):
    """What a run was asked to do does not fit the season (a round that does not exist, --event with --round)."""


class NothingFetched(TdzError):
    """A fetch that meant to fetch something got nothing at all: ZwiftPower (or Zwift) down, unreachable or
    refusing us. The run fails so that its alert fires; standings stay as they were."""

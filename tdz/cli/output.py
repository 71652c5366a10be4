"""What the `tdz` command prints: results on stdout, progress and errors on stderr, a user error as one line."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from tdz.errors import TdzError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_tracebacks = False

F = TypeVar("F", bound=Callable[..., Any])


def show_tracebacks(on: bool) -> None:
    global _tracebacks
    _tracebacks = on


def reporting(command: F) -> F:
    """A command whose user errors (`TdzError`) are one line on stderr each and exit code 1; the traceback is
    printed too with `--debug`."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TdzError as exc:
            if _tracebacks:
                err.print_exception()
            for line in str(exc).splitlines() or [type(exc).__name__]:
                err.print(f"[red]error:[/red] {escape(line)}")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]

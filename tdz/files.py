"""Writing a file so that a reader, a crash or a second run never sees half of it, and one run at a time."""

from __future__ import annotations

import asyncio
import os
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from tdz.errors import TdzError

NEW_FILE_MODE = 0o644
STALE_TEMP_SECONDS = 3600
"""A temp file of `atomic_write` this old was left by a write that never finished (the process was killed)."""


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace `path` with `data`: readers see the old file or the new one, never a part of either.

    The bytes go to a temp file of its own beside `path` (two runs writing the same file never share one), are
    flushed to disk, and the temp file is renamed over `path`; missing folders are created. `mode` sets the file's
    permissions, and the temp file is owner-only until then, so an owner-only file (a session cookie) is never
    readable by others, even for a moment. Without `mode` an existing file keeps its permissions and a new one gets
    0o644. On any failure the temp file is removed and `path` is left as it was; temp files of `path` left by a
    write that was killed (older than `STALE_TEMP_SECONDS`) are removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_stale_temps(path: Path) -> None:
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
        except OSError:
            pass  # gone already, or not ours to remove


class Busy(TdzError):
    """Another run of the same season holds the lock for longer than `TDZ_LOCK_TIMEOUT_SECONDS`."""


def _lock(path: Path, timeout_seconds: float) -> FileLock:
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path, timeout=timeout_seconds, thread_local=False)


def _busy(path: Path, what: str, timeout_seconds: float) -> Busy:
    return Busy(f"{what}: another run has held {path} for over {timeout_seconds:g} s; run again when it is done "
                "(or raise TDZ_LOCK_TIMEOUT_SECONDS)")


@contextmanager
def holding(path: Path, what: str, timeout_seconds: float) -> Iterator[None]:
    """Hold the lock file `path` (waiting up to `timeout_seconds` for another run, another process or thread,
    to let go); `what` names the work for the message when it does not."""
    lock = _lock(path, timeout_seconds)
    try:
        lock.acquire()
    except Timeout:
        raise _busy(path, what, timeout_seconds) from None
    try:
        yield
    finally:
        lock.release()


@asynccontextmanager
async def holding_async(path: Path, what: str, timeout_seconds: float) -> AsyncIterator[None]:
    """`holding` for a coroutine: the wait happens in a thread, so the event loop goes on meanwhile."""
    lock = _lock(path, timeout_seconds)
    try:
        await asyncio.to_thread(lock.acquire)
    except Timeout:
        raise _busy(path, what, timeout_seconds) from None
    try:
        yield
    finally:
        lock.release()

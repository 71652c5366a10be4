"""`tdz.files.atomic_write`: the old file or the new one, never a part; permissions kept or set."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tdz.files import atomic_write


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_new_files_in_new_folders_and_keeps_an_existing_files_mode(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "state.json"
    atomic_write(target, b'{"x": 1}')
    assert target.read_bytes() == b'{"x": 1}' and mode_of(target) == 0o644
    target.chmod(0o640)
    atomic_write(target, b'{"x": 2}')
    assert target.read_bytes() == b'{"x": 2}' and mode_of(target) == 0o640
    atomic_write(target, b"secret", mode=0o600)
    assert mode_of(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "season.xlsx"
    atomic_write(target, b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["season.xlsx"]


def test_parallel_writers_of_one_file_never_mix_their_bytes(tmp_path: Path) -> None:
    target = tmp_path / ".zwiftpower-session.json"
    bodies = [bytes([65 + i]) * 200_000 for i in range(8)]
    threads = [threading.Thread(target=atomic_write, args=(target, body, 0o600)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_bytes() in bodies and mode_of(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_temp_file_left_by_a_killed_write_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "kwcc.xlsx"
    atomic_write(target, b"old")
    stale = tmp_path / ".kwcc.xlsx.x7k2q9.tmp"
    stale.write_bytes(b"half a workbook")  # the process was killed between write and rename
    hour_ago = stale.stat().st_mtime - 2 * 3600
    os.utime(stale, (hour_ago, hour_ago))
    fresh = tmp_path / ".kwcc.xlsx.a1b2c3.tmp"
    fresh.write_bytes(b"another writer, busy right now")
    other = tmp_path / ".other.json.zz.tmp"
    other.write_bytes(b"not ours")
    os.utime(other, (hour_ago, hour_ago))
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, fresh.name, other.name])

"""Wall time of the `tdz` command as an organiser runs it: whole processes, in-process pipeline, no Prefect server.

    uv run python bench/cli.py [--runs 5]

In a fresh temporary folder (the shipped season files copied in): `python -c "import tdz.pipeline"`, a first
`tdz demo` (generates both demo archives and writes both workbooks), `tdz demo` again (archives present, nothing
changed), and for each season `tdz rescore` with nothing changed and after an organiser's edit (a DQ row typed
into the workbook, then taken out again, so every timed run writes every tab). Prints the median and the range of
`--runs` runs each, beside the targets of the pipeline issue (rescore < 3 s, demo re-run < 6 s). The command is
the venv's `tdz` script; `uv run` adds its own start-up (its sync check), printed once on its own line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
TDZ = Path(sys.executable).with_name("tdz")
SEASONS = {"ctt": "ctt-winter-2025-26", "kwcc": "kwcc-tdz-2026"}


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return seconds


def measure(label: str, runs: int, args: list[str], cwd: Path, env: dict[str, str], target: float | None = None,
            before: Callable[[], None] | None = None) -> None:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        times.append(timed(args, cwd, env))
    median = statistics.median(times)
    verdict = "" if target is None else f"  [{'OK' if median < target else 'MISSED'}: target < {target:g} s]"
    print(f"{label:<44} median {median:5.2f} s  (min {min(times):.2f}, max {max(times):.2f}, {runs} runs){verdict}")


def toggle_dq(workbook: Path) -> Callable[[], None]:
    """Between runs: add a DQ row for the season's first rider, or take it out again (never timed)."""

    def edit() -> None:
        book = openpyxl.load_workbook(workbook)
        dq = book["DQ"]
        if dq.max_row > 1:
            dq.delete_rows(2, dq.max_row)
        else:
            rider = book["riders"].cell(row=2, column=2).value
            dq.append([str(rider), "", "", "bench: a DQ typed by the organiser", "bench"])
        book.save(workbook)

    return edit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tdz-bench-cli-"))
    shutil.copytree(ROOT / "seasons", work / "seasons")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TDZ_", "PREFECT_API_URL"))}
    print(f"in {work}, {os.cpu_count()} cores; the command: {TDZ}")

    measure('python -c "import tdz.pipeline"', args.runs, [sys.executable, "-c", "import tdz.pipeline"], work, env)
    measure("tdz demo, first (generates, writes all)", 1, [str(TDZ), "demo"], work, env)
    measure("tdz demo, again (archive present)", args.runs, [str(TDZ), "demo"], work, env, target=6)
    for short, season_id in SEASONS.items():
        command = [str(TDZ), "rescore", "--season", f"seasons/{season_id}.toml"]
        measure(f"tdz rescore {short}, nothing changed", args.runs, command, work, env, target=3)
        measure(f"tdz rescore {short}, after a DQ edit (writes)", args.runs, command, work, env, target=3,
                before=toggle_dq(work / "out" / f"{season_id}.xlsx"))
    uv = shutil.which("uv")
    if uv:
        measure("uv run python -c pass (uv's own start-up)", args.runs,
                [uv, "run", "--project", str(ROOT), "python", "-c", "pass"], work, env)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()

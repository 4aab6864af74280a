"""Rebuilding on a schedule: full build time and peak memory, and an update with nothing to do.

For each corpus size it writes a JSON Lines corpus (Reuters-21578, then the Wikipedia slice, then
both again with fresh ids, until the size is reached), runs ``searchlib build`` on it in a child
process while sampling the resident memory of that process and all its children every 0.1 s,
then runs ``searchlib update`` twice: once with nothing changed, and once after changing 1% of
the articles. The peer of each update is the full build of the same corpus in the same run.

Usage:
    python benchmarks/rebuild.py [--data ../shared/data] [--sizes 21000,100000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write_corpus(data: Path, size: int, path: Path) -> None:
    sources = [data / "reuters21578.jsonl.gz", data / "wikipedia-slice.jsonl.gz"]
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for round_number in range(1_000):
            for source in sources:
                for line in gzip.open(source, "rt", encoding="utf-8"):
                    if written == size:
                        return
                    record = json.loads(line)
                    if round_number:
                        record["id"] = f"{record['id']}~{round_number}"
                    out.write(json.dumps(record) + "\n")
                    written += 1


def change_some(path: Path, fraction: float) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    step = int(1 / fraction)
    for number in range(0, len(lines), step):
        record = json.loads(lines[number])
        record["body"] += " (Corrected.)"
        lines[number] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(range(0, len(lines), step))


def record_peaks(pid: int, peaks: dict[int, int]) -> None:
    """Record in ``peaks`` the peak resident set size (VmHWM, in bytes) of a process and of all
    its descendants so far, from /proc: the kernel keeps each process's peak, so a sample
    misses nothing that happened before it, and reading it costs next to nothing."""
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            peaks[current] = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue


def run(command: list[str]) -> tuple[float, int, str]:
    """Seconds, peak memory and standard output of a command whose output is short (it is read
    once the command has ended).

    The peak memory is the sum of the peak resident set sizes of the command's processes, each
    read every 50 ms until it ends (so all but its last 50 ms): exact for one process; for
    several, an upper bound, since they peak at different moments and pages a forked process
    shares with its parent count in each. (Summing the processes' PSS instead, as before, meant
    reading their page tables, 30 ms a sample for a build's five processes: sampling often
    enough to see short peaks took a third of a core from the build measured.)"""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}
    while process.poll() is None:
        record_peaks(process.pid, peaks)
        try:
            process.wait(0.05)
        except subprocess.TimeoutExpired:
            pass
    seconds = time.perf_counter() - started
    output = process.stdout.read() if process.stdout else ""
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed with {process.returncode}")
    return seconds, sum(peaks.values()), output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--sizes", default="20841,100000")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    searchlib = [sys.executable, "-m", "searchlib"]
    print("| articles | build s | build peak memory, RSS (MB) | update, nothing changed: s (x build) | update, 1% changed: s (x build) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as work:
            corpus, index = Path(work) / "corpus.jsonl", Path(work) / "index"
            write_corpus(args.data, size, corpus)
            build_s, peak, _ = run([*searchlib, "build", str(corpus), "--index", str(index), "--jobs", str(args.jobs)])
            idle_s, _, _ = run([*searchlib, "update", str(corpus), "--index", str(index)])
            change_some(corpus, 0.01)
            changed_s, _, _ = run([*searchlib, "update", str(corpus), "--index", str(index)])
            print(f"| {size:,} | {build_s:.1f} | {peak / 2**20:,.0f} | {idle_s:.2f} ({idle_s / build_s:.3f}x) "
                  f"| {changed_s:.1f} ({changed_s / build_s:.2f}x) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

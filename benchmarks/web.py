"""The web page and API under load (issue 19): ``/api/search`` beside the same searches in-process,
with an update swapping generations in the middle of every run, and keystroke-to-painted-results
in headless Chromium.

On a copy of Reuters-21578 (written to a temporary folder and indexed there), with real queries
from MS MARCO (``queries-msmarco.tsv.gz``):

1. In-process: ``Index.search(query, limit=10)`` for each query, after one pass to warm the
   caches, timed one by one.
2. Over HTTP: ``searchlib serve`` in a child process (the command as a user runs it, on
   127.0.0.1), warmed the same way, then for each of 1, 8 and 32 concurrent clients (``httpx2``
   with asyncio, keep-alive connections), every client going through the queries from its own
   starting point for ``--seconds`` seconds. A third of the way into each run a few articles
   of the corpus copy are changed and ``searchlib update`` runs, which makes a new generation
   live; the server must move to it without a restart and without one failed request.
3. In the browser: the search page in headless Chromium, each query typed a key at a time into
   an empty box (``--key-delay`` ms between keys); the time from the last keystroke to the
   results painted (the page's own measure: two animation frames after the new results are in
   the document), debounce included, and from the request to the paint.

Usage:
    python benchmarks/web.py [--data ../shared/data] [--seconds 60] [--queries 2000] [--typed 60]

The client and the server share the machine's cores, so latencies under load include the
client's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx

import searchlib

SEARCHLIB = [sys.executable, "-m", "searchlib"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def read_queries(path: Path, count: int) -> list[str]:
    queries = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            text = line.rstrip("\n").split("\t", 1)[-1].strip()
            if text:
                queries.append(text)
            if len(queries) == count:
                break
    return queries


def copy_corpus(source: Path, target: Path) -> list[str]:
    lines = gzip.open(source, "rt", encoding="utf-8").read().splitlines()
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def change_articles(corpus: Path, lines: list[str], run: int, count: int = 10) -> None:
    """Change ``count`` articles of the corpus copy and add one, as a day's corrections would."""
    changed = list(lines)
    for number in range(count):
        at = (run * 997 + number * 1_543) % len(changed)
        record = json.loads(changed[at])
        record["body"] = record.get("body", "") + f" (Corrected in run {run}.)"
        changed[at] = json.dumps(record)
    changed.append(json.dumps({"id": f"web-bench-{run}", "title": f"Benchmark article {run}", "date": "1987-10-20",
                               "body": f"An article added during run {run} of the web benchmark."}))
    corpus.write_text("\n".join(changed) + "\n", encoding="utf-8")


class RawClient:
    """HTTP/1.1 over one kept-alive socket with nothing else: what the server adds to a search,
    without a client library's own cost (httpx2 spends about half a millisecond a request)."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port))
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def get(self, target: str) -> tuple[int, bytes]:
        self.socket.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.socket.recv(65536)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        while len(self.buffer) < length:
            self.buffer += self.socket.recv(65536)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(head.split(b" ", 2)[1]), body

    def close(self) -> None:
        self.socket.close()


def paired(index_path: Path, base: str, queries: list[str]) -> dict[str, list[float]]:
    """Each query in-process, then the same over HTTP from one client, one after the other, so
    that both see the same load on the machine; both warmed by one pass first. Also the time of
    the smallest request there is, a static file, as the floor of HTTP on the machine as loaded."""
    raw = RawClient(int(base.rsplit(":", 1)[1]))
    with searchlib.Index.open(index_path) as index, httpx.Client(base_url=base, timeout=60) as client:
        for query in queries:
            index.search(query, limit=10)
            client.get("/api/search", params={"q": query}).raise_for_status()
        here, there, bare, floor = [], [], [], []
        for query in queries:
            started = time.perf_counter()
            client.get("/static/favicon.svg").raise_for_status()
            floor.append(time.perf_counter() - started)
            started = time.perf_counter()
            status, body = raw.get("/api/search?" + urlencode({"q": query}))
            json.loads(body)
            bare.append(time.perf_counter() - started)
            assert status == 200, body
            started = time.perf_counter()
            index.search(query, limit=10)
            here.append(time.perf_counter() - started)
            started = time.perf_counter()
            answer = client.get("/api/search", params={"q": query})
            answer.json()
            there.append(time.perf_counter() - started)
            answer.raise_for_status()
    raw.close()
    return {"in-process": here, "httpx2": there, "socket": bare, "static": floor}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_up(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base) as client:
        while True:
            try:
                if (await client.get("/api/status")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            await asyncio.sleep(0.1)


async def load(base: str, queries: list[str], clients: int, seconds: float, update: Any) -> dict[str, Any]:
    """``clients`` clients searching for ``seconds``, and on until 5 s after the server switched
    to the generation of ``update()``, which runs a third of the way in."""
    latencies: list[float] = []
    starts: list[float] = []
    failures: list[str] = []
    switched: list[float] = []
    stop = [time.monotonic() + seconds]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(client: httpx.AsyncClient, number: int) -> None:
        at = number * len(queries) // clients
        while time.monotonic() < stop[0]:
            query = queries[at % len(queries)]
            at += 1
            started = time.perf_counter()
            try:
                answer = await client.get("/api/search", params={"q": query})
                answer.json()
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {query!r}: {answer.text[:200]}")
            except Exception as error:  # a failed request of any kind is what is counted
                failures.append(f"{type(error).__name__} {query!r}: {error}")
            latencies.append(time.perf_counter() - started)
            starts.append(started)

    async def watch(client: httpx.AsyncClient, before: str) -> None:
        """When the server starts answering from the new generation."""
        while not switched:
            if (await client.get("/api/status")).json()["served_generation"] != before:
                switched.append(time.perf_counter())
                stop[0] = max(stop[0], time.monotonic() + 5)  # the run goes on 5 s past the switch at least
            await asyncio.sleep(0.1)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        before = (await client.get("/api/status")).json()["served_generation"]
        started = time.monotonic()
        tasks = [asyncio.create_task(client_loop(client, number)) for number in range(clients)]
        await asyncio.sleep(seconds / 3)
        update_started = time.perf_counter()
        await asyncio.to_thread(update)
        update_seconds = time.perf_counter() - update_started
        tasks.append(asyncio.create_task(watch(client, before)))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        after = (await client.get("/api/status")).json()["served_generation"]
    return {"clients": clients, "requests": len(latencies), "seconds": elapsed, "latencies": latencies,
            "failures": failures, "generations": (before, after), "update_seconds": update_seconds,
            "switch_seconds": switched[0] - update_started - update_seconds if switched else None,
            "during": [lat for lat, at in zip(latencies, starts)
                       if update_started <= at <= (switched[0] if switched else update_started + update_seconds) + 5],
            "outside": [lat for lat, at in zip(latencies, starts)
                        if not update_started <= at <= (switched[0] if switched else update_started + update_seconds) + 5]}


def browser_timings(base: str, queries: list[str], key_delay: float) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        box = page.locator("#q")
        for query in queries:
            box.fill("")
            page.evaluate("window.searchlibTimings = []")
            box.press_sequentially(query, delay=key_delay)
            page.wait_for_function(
                "q => window.searchlibTimings.some(t => t.query === q && t.keystrokeToPaint !== null)", arg=query,
                timeout=30_000)
            found = page.evaluate("q => window.searchlibTimings.filter(t => t.query === q).pop()", query)
            timings.append(found)
        browser.close()
    return timings


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--typed", type=int, default=60, help="queries typed in the browser")
    parser.add_argument("--key-delay", type=float, default=60, help="ms between typed keys")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--jobs", type=int, default=2)
    arguments = parser.parse_args()

    queries = read_queries(arguments.data / "queries-msmarco.tsv.gz", arguments.queries)
    scratch = Path(tempfile.mkdtemp(prefix="searchlib-web-bench-"))
    server = None
    try:
        corpus = scratch / "reuters.jsonl"
        lines = copy_corpus(arguments.data / "reuters21578.jsonl.gz", corpus)
        index = scratch / "index"
        print(f"building {index} from a copy of Reuters-21578 ({len(lines):,} lines)…", file=sys.stderr)
        searchlib.build(corpus, index, jobs=arguments.jobs)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(scratch / "serve.log", "w")
        server = subprocess.Popen([*SEARCHLIB, "serve", "--index", str(index), "--port", str(port)], stdout=log,
                                  stderr=subprocess.STDOUT)
        asyncio.run(wait_until_up(base))
        print(f"in-process and over HTTP, one after the other: {len(queries):,} MS MARCO queries…", file=sys.stderr)
        timed = paired(index, base, queries)
        local, one_by_one, bare, floor = timed["in-process"], timed["httpx2"], timed["socket"], timed["static"]
        load_average = os.getloadavg()

        runs = []
        for number, clients in enumerate(int(c) for c in arguments.clients.split(",")):
            def update(run: int = number) -> None:
                change_articles(corpus, lines, run)
                # Nice 10, as the README's systemd unit runs a scheduled update.
                subprocess.run(["nice", "-n", "10", *SEARCHLIB, "update", "--index", str(index), "--wait", "120", "--quiet"],
                               check=True)

            print(f"HTTP: {clients} clients for {arguments.seconds:g} s, an update a third of the way in…", file=sys.stderr)
            runs.append(asyncio.run(load(base, queries, clients, arguments.seconds, update)))

        print(f"browser: {arguments.typed} queries typed…", file=sys.stderr)
        typed = browser_timings(base, queries[: arguments.typed], arguments.key_delay)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\nReuters-21578 ({len(lines):,} articles), {len(queries):,} MS MARCO queries, limit 10, "
          f"{os.cpu_count()} cores shared by client and server.\n")
    print(f"One client, each query in-process, then over HTTP (`/api/search`) with a bare socket and with httpx2, "
          f"{len(local):,} queries; load average meanwhile {', '.join(f'{value:.1f}' for value in load_average)}:\n")
    print("| | p50 ms | p99 ms | searches/s | added to in-process: p50 minus p50, ms | added: median of the differences, ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, times in (("in-process `Index.search`", local), ("HTTP, bare socket client", bare), ("HTTP, httpx2 client", one_by_one)):
        added = [http - here for http, here in zip(times, local)]
        print(f"| {label} | {ms(statistics.median(times))} | {ms(percentile(times, 0.99))} | {len(times) / sum(times):,.0f} | "
              f"{ms(statistics.median(times) - statistics.median(local))} | {ms(statistics.median(added))} |")
    print(f"| a static file, httpx2 (`/static/favicon.svg`) | {ms(statistics.median(floor))} | {ms(percentile(floor, 0.99))} | | | |\n")
    print("| clients | requests | requests/s | p50 ms | p99 ms | failed | update (s) | served the new generation after (s) | "
          "p50 / p99 ms from the update to 5 s after the switch | p50 / p99 ms the rest | generations |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for run in runs:
        lat, during, outside = run["latencies"], run["during"], run["outside"]
        switch = "never" if run["switch_seconds"] is None else f"{run['switch_seconds']:.1f}"
        print(f"| {run['clients']} | {run['requests']:,} | {run['requests'] / run['seconds']:,.0f} | {ms(statistics.median(lat))} | "
              f"{ms(percentile(lat, 0.99))} | {len(run['failures'])} | {run['update_seconds']:.1f} | {switch} | "
              f"{ms(statistics.median(during))} / {ms(percentile(during, 0.99))} | "
              f"{ms(statistics.median(outside))} / {ms(percentile(outside, 0.99))} | "
              f"{run['generations'][0]} → {run['generations'][1]} |")
    for run in runs:
        for failure in run["failures"][:5]:
            print(f"failed ({run['clients']} clients): {failure}")
    keystroke = [t["keystrokeToPaint"] for t in typed]
    request = [t["requestToPaint"] for t in typed]
    print(f"\nBrowser, {len(typed)} queries typed ({arguments.key_delay:g} ms between keys, results asked for "
          f"150 ms after the last key): keystroke to painted results p50 {statistics.median(keystroke):.0f} ms, "
          f"p95 {percentile(keystroke, 0.95):.0f} ms; request to painted results p50 {statistics.median(request):.0f} ms, "
          f"p95 {percentile(request, 0.95):.0f} ms.")


if __name__ == "__main__":
    main()

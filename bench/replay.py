"""Replay benchmark: what one replayed request costs, as the cassette grows.

What it measures
    For cassettes of 100, 1,000, 3,000 and 10,000 recorded interactions (100 and 1,000 with `--quick`), each
    interaction a distinct `GET https://api.example.com/items?page=<i>` answered by a ~200-byte JSON body, the
    time to replay all N requests in recorded order, divided by N, for:
      (a) ours    harness's ReplayTransport, through httpx.AsyncClient (one asyncio.run per size);
      (b) vcrpy   vcrpy's own replay (`vcr.use_cassette(path, record_mode="none")`), through httpx.AsyncClient
                  with its default transport, whose `handle_async_request` vcrpy patches;
      (c) mock    httpx.MockTransport with a plain handler that looks the URL up in a dict, through
                  httpx.AsyncClient: the floor, what httpx itself costs per request;
      (d) stack   the whole replay stack a run uses (`harness.http.stack.build_stack("replay")`: the
                  observer that logs each exchange, over (a)), for the record.
    (a), (c) and (d) take the best of 3 repetitions, interleaved (each with a fresh transport, since replay
    consumes the cassette; a small cassette gets more repetitions, 9,000 requests in all, e.g. 90 at 100).
    Times are CPU time of this process (`time.process_time`): the machine is shared. vcrpy looks a request
    up by scanning the recorded interactions, so its per-request cost grows with the cassette; at 10,000 a
    full replay would take many minutes. vcrpy is therefore SAMPLED: it replays min(N, 300) requests spread
    evenly over the whole cassette (request number round(k * N / S) for k < S), so the sampled requests sit,
    on average, in the middle of the cassette as in a full replay; 1 run.
    All three share the same cassette file, written by harness's own writer (harness cassettes are vcrpy's
    format). The client is created before the clock starts; only the requests are timed.

    It also times loading the file: harness's `load_cassette` (best of 3; and again with the cyclic garbage
    collector paused, which shows how much of the load is GC passes over the growing document) and vcrpy's (entering
    `use_cassette`, which reads the file, builds vcrpy's interaction list and patches httpx; 1 run), the
    harness write time (`write_cassette`, 1 run), the time to build our ReplayTransport (its request index,
    best of 3), and the file size in MB (10^6 bytes).

How to read the output
    Table 1: per-request microseconds for each implementation, and the ratios: "ours / mock" is how many
    times httpx's own floor our replay costs (1.0 would be free; the target is 1.1), "stack / mock" the same
    for the whole stack, "vcrpy / ours" is how many times faster than vcrpy we are. Our column should be
    flat across sizes (the lookup is a dict); vcrpy's grows roughly linearly. Table 2: file size and
    load/write times per size; the line under it gives the load time per interaction, which should also be
    flat (if it grows with N while the "gc paused" figure stays flat, the growth is garbage-collection
    passes, not parsing).
    `--json` writes one JSON document with every figure to stdout (the tables then go to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import vcr
from rich.console import Console
from rich.table import Table

from harness.cassettes.format import Cassette, Interaction, load_cassette, write_cassette
from harness.clock import VirtualClock
from harness.http.replay import ReplayTransport
from harness.http.stack import build_stack
from harness.secrets.scrubber import Scrubber

SIZES = (100, 1_000, 3_000, 10_000)
QUICK_SIZES = (100, 1_000)
REPETITIONS = 3
# Small cassettes are replayed more times, so each best-of holds at least this many requests in all.
MIN_REQUESTS = 9_000
TARGET = 1.1  # ours / mock (issue 15, point 3)
VCR_SAMPLES = 300
BASE_URL = "https://api.example.com/items"
RESPONSE_HEADERS = {"content-type": ["application/json"]}
VCR_CLIENT = "httpx.AsyncClient (default AsyncHTTPTransport; vcrpy patches its handle_async_request)"


def url(i: int) -> str:
    return f"{BASE_URL}?page={i}"


def body(i: int) -> str:
    """A JSON object of about 200 bytes, different for every page."""
    item = {
        "id": i,
        "name": f"item-{i:06d}",
        "status": "active" if i % 3 else "archived",
        "owner": {"id": 1000 + i % 97, "login": f"user{i % 97}"},
        "tags": ["alpha", "beta", "gamma"][: 1 + i % 3],
        "updated_at": f"2024-05-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
        "description": "A recorded item used to measure replay cost.",
    }
    return json.dumps(item, separators=(",", ":"))


def build_cassette(n: int) -> Cassette:
    interactions = [
        Interaction(method="GET", uri=url(i), request_headers={"accept": ["*/*"]}, request_body=None, status=200,
                    reason="OK", response_headers=RESPONSE_HEADERS, response_body=body(i))
        for i in range(n)
    ]
    return Cassette(interactions=interactions, context={"function": "bench"})


def vcr_sample(n: int) -> list[int]:
    """min(n, VCR_SAMPLES) distinct request numbers spread evenly over the cassette, in recorded order."""
    count = min(n, VCR_SAMPLES)
    return sorted({round(k * n / count) for k in range(count)})


@dataclass
class SizeResult:
    n: int
    file_mb: float = 0.0
    write_s: float = 0.0
    load_ours_s: float = 0.0
    load_ours_nogc_s: float = 0.0
    load_vcrpy_s: float = 0.0
    index_build_s: float = 0.0
    ours_us: list[float] = field(default_factory=list)
    mock_us: list[float] = field(default_factory=list)
    stack_us: list[float] = field(default_factory=list)
    vcrpy_us: float = 0.0
    vcrpy_requests: int = 0
    vcrpy_sampled: bool = False

    @property
    def ours_best_us(self) -> float:
        return min(self.ours_us)

    @property
    def mock_best_us(self) -> float:
        return min(self.mock_us)

    @property
    def stack_best_us(self) -> float:
        return min(self.stack_us)

    def summary(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "ours_best_us": self.ours_best_us,
            "mock_best_us": self.mock_best_us,
            "stack_best_us": self.stack_best_us,
            "ours_over_mock": self.ours_best_us / self.mock_best_us,
            "stack_over_mock": self.stack_best_us / self.mock_best_us,
            "vcrpy_over_ours": self.vcrpy_us / self.ours_best_us,
        }


def best_of(repetitions: int, func: Callable[[], object]) -> float:
    times: list[float] = []
    for _ in range(repetitions):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return min(times)


def load_without_gc(path: Path) -> Cassette:
    """load_cassette with the cyclic garbage collector paused: shows how much of the load time is GC passes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return load_cassette(path)
    finally:
        if was_enabled:
            gc.enable()


def check(response: httpx.Response, i: int, who: str) -> None:
    # Harness replays the recorded bytes; vcrpy gets the pretty-printed copy the cassette shows for review,
    # so the same JSON is what both must return.
    if response.status_code != 200 or json.loads(response.content) != json.loads(body(i)):
        raise RuntimeError(f"{who}: wrong response for {url(i)}: {response.status_code} {response.content[:60]!r}")


async def timed_requests(transport: httpx.AsyncBaseTransport, urls: list[str], who: str) -> float:
    """CPU seconds to send every url through `transport` (the client is made before the clock starts, and the
    garbage left by building the transport is collected before it too: each loop starts from the same heap)."""
    async with httpx.AsyncClient(transport=transport) as client:
        gc.collect()
        start = time.process_time()
        for u in urls:
            response = await client.get(u)
            if response.status_code != 200:
                raise RuntimeError(f"{who}: {u} answered {response.status_code}")
        elapsed = time.process_time() - start
    check(response, len(urls) - 1, who)
    return elapsed


async def time_ours(cassette: Cassette, urls: list[str]) -> tuple[float, float]:
    """(seconds to build the transport, seconds to replay every url) for one fresh ReplayTransport."""
    start = time.process_time()
    transport = ReplayTransport(cassette, Scrubber({}))
    built = time.process_time() - start
    return built, await timed_requests(transport, urls, "ours")


async def time_stack(cassette: Cassette, urls: list[str]) -> float:
    stack = build_stack("replay", Scrubber({}), VirtualClock(), cassette=cassette)
    return await timed_requests(stack.transport, urls, "stack")


async def time_mock(responses: dict[str, bytes], urls: list[str]) -> float:
    headers = [("content-type", "application/json")]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=responses[str(request.url)])

    return await timed_requests(httpx.MockTransport(handler), urls, "mock")


async def ours_and_mock(result: SizeResult, cassette: Cassette) -> None:
    urls = [url(i) for i in range(result.n)]
    responses = {url(i): body(i).encode() for i in range(result.n)}
    builds: list[float] = []
    for _ in range(max(REPETITIONS, -(-MIN_REQUESTS // result.n))):  # interleaved: a slow spell hits all alike
        built, elapsed = await time_ours(cassette, urls)
        builds.append(built)
        result.ours_us.append(elapsed / result.n * 1e6)
        result.mock_us.append(await time_mock(responses, urls) / result.n * 1e6)
        result.stack_us.append(await time_stack(cassette, urls) / result.n * 1e6)
    result.index_build_s = min(builds)


async def replay_vcrpy(picks: list[int]) -> float:
    async with httpx.AsyncClient() as client:
        start = time.process_time()
        for i in picks:
            response = await client.get(url(i))
            if response.status_code != 200:
                raise RuntimeError(f"vcrpy: {url(i)} answered {response.status_code}")
        elapsed = time.process_time() - start
    check(response, picks[-1], "vcrpy")
    return elapsed


def time_vcrpy(result: SizeResult, path: Path) -> None:
    picks = vcr_sample(result.n)
    start = time.process_time()
    with vcr.use_cassette(str(path), record_mode="none") as cassette:
        result.load_vcrpy_s = time.process_time() - start
        loaded = len(cassette.data)
        if loaded != result.n:
            raise RuntimeError(f"vcrpy loaded {loaded} interactions from {path}, expected {result.n}")
        elapsed = asyncio.run(replay_vcrpy(picks))
    result.vcrpy_us = elapsed / len(picks) * 1e6
    result.vcrpy_requests = len(picks)
    result.vcrpy_sampled = len(picks) < result.n


def run_size(n: int, folder: Path, console: Console) -> SizeResult:
    result = SizeResult(n)
    path = folder / f"bench-{n}.yaml"
    scrubber = Scrubber({})
    built = build_cassette(n)
    start = time.process_time()
    write_cassette(path, built, scrubber)
    result.write_s = time.process_time() - start
    result.file_mb = path.stat().st_size / 1e6
    result.load_ours_s = best_of(REPETITIONS, lambda: load_cassette(path))
    result.load_ours_nogc_s = best_of(REPETITIONS, lambda: load_without_gc(path))
    cassette = load_cassette(path)
    if len(cassette.interactions) != n:
        raise RuntimeError(f"load_cassette read {len(cassette.interactions)} interactions, expected {n}")
    console.log(f"N={n:,}: ours, MockTransport and the whole stack ({REPETITIONS} repetitions each)")
    asyncio.run(ours_and_mock(result, cassette))
    console.log(f"N={n:,}: vcrpy ({min(n, VCR_SAMPLES)} requests)")
    time_vcrpy(result, path)
    return result


def us(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def render(console: Console, results: list[SizeResult], total_s: float) -> None:
    table = Table(title="Replay cost per request (CPU µs; ours, mock, stack: best of 3+; vcrpy: 1 run, sampled)")
    table.add_column("interactions", justify="right")
    table.add_column("(a) ours", justify="right")
    table.add_column("(b) vcrpy", justify="right")
    table.add_column("vcrpy requests", justify="right")
    table.add_column("(c) mock", justify="right")
    table.add_column("(d) stack", justify="right")
    table.add_column("ours / mock", justify="right")
    table.add_column("stack / mock", justify="right")
    table.add_column("vcrpy / ours", justify="right")
    for r in results:
        sampled = f"{r.vcrpy_requests:,} (sampled)" if r.vcrpy_sampled else f"{r.vcrpy_requests:,} (all)"
        table.add_row(f"{r.n:,}", us(r.ours_best_us), us(r.vcrpy_us), sampled, us(r.mock_best_us),
                      us(r.stack_best_us), f"{r.ours_best_us / r.mock_best_us:.2f}x",
                      f"{r.stack_best_us / r.mock_best_us:.2f}x", f"{r.vcrpy_us / r.ours_best_us:,.0f}x")
    console.print(table)
    ratios = [r.ours_best_us / r.mock_best_us for r in results]
    console.print(f"ours / mock, median over sizes: {statistics.median(ratios):.2f}x (target {TARGET}x: "
                  f"{'met' if statistics.median(ratios) <= TARGET else 'MISSED'})")
    spread = [f"{r.n:,}: {us(min(r.ours_us))}-{us(max(r.ours_us))} ({len(r.ours_us)} runs)" for r in results]
    console.print(f"ours, all repetitions (µs/request, least-most): {'; '.join(spread)}")
    console.print(f"vcrpy was sampled: min(N, {VCR_SAMPLES}) requests spread evenly over the cassette; "
                  f"client: {VCR_CLIENT}.")
    console.print("ours, mock, stack: httpx.AsyncClient with the transport given; only the requests are timed; "
                  "stack = the observer over ours, as a run has it.")

    files = Table(title="Cassette file: size and load time")
    files.add_column("interactions", justify="right")
    files.add_column("file MB", justify="right")
    files.add_column("ours write s", justify="right")
    files.add_column("ours load s", justify="right")
    files.add_column("ours load, gc paused s", justify="right")
    files.add_column("vcrpy load s", justify="right")
    files.add_column("load vcrpy / ours", justify="right")
    files.add_column("ours index ms", justify="right")
    for r in results:
        files.add_row(f"{r.n:,}", f"{r.file_mb:.2f}", f"{r.write_s:.3f}", f"{r.load_ours_s:.3f}",
                      f"{r.load_ours_nogc_s:.3f}", f"{r.load_vcrpy_s:.3f}", f"{r.load_vcrpy_s / r.load_ours_s:.1f}x",
                      f"{r.index_build_s * 1000:.1f}")
    console.print(files)
    console.print("ours load: load_cassette, best of 3 (gc paused: the same with gc.disable() around it); "
                  "vcrpy load: entering use_cassette (read + build + patch httpx), 1 run; "
                  "ours index: building ReplayTransport(...), best of 3.")
    per = "; ".join(f"{r.n:,}: {us(r.load_ours_s / r.n * 1e6)} ({us(r.load_ours_nogc_s / r.n * 1e6)} gc paused)"
                    for r in results)
    console.print(f"ours load per interaction, µs: {per}")
    console.print(f"python {sys.version.split()[0]}, httpx {httpx.__version__}, vcrpy {vcr.__version__}, "
                  f"cpus: {os.cpu_count()}, total run time {total_s:.1f} s")


def to_json(results: list[SizeResult], total_s: float) -> dict[str, Any]:
    return {
        "benchmark": "replay",
        "python": sys.version.split()[0],
        "httpx": httpx.__version__,
        "vcrpy": vcr.__version__,
        "cpus": os.cpu_count(),
        "repetitions": REPETITIONS,
        "vcrpy_samples": VCR_SAMPLES,
        "vcrpy_client": VCR_CLIENT,
        "units": {"*_us": "CPU microseconds per request", "*_s": "CPU seconds", "file_mb": "10^6 bytes"},
        "total_seconds": total_s,
        "sizes": [r.summary() for r in results],
        "ours_us_median_over_sizes": statistics.median(r.ours_best_us for r in results),
        "ours_over_mock_median_over_sizes": statistics.median(r.ours_best_us / r.mock_best_us for r in results),
        "target_ours_over_mock": TARGET,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="write one JSON document to stdout (tables to stderr)")
    parser.add_argument("--quick", action="store_true", help="only 100 and 1,000 interactions")
    args = parser.parse_args()
    console = Console(stderr=bool(args.json))
    if not console.is_terminal:
        console.width = 120  # piped or captured: keep the tables on one line each
    sizes = QUICK_SIZES if args.quick else SIZES
    start = time.perf_counter()
    results: list[SizeResult] = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        for n in sizes:
            results.append(run_size(n, Path(tmp), console))
    total = time.perf_counter() - start
    render(console, results, total)
    if args.json:
        print(json.dumps(to_json(results, total), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The mock over HTTP against Stripe's own stripe-mock, through the official SDKs.

Runs the same invoice cycle — customer → invoice item → invoice → finalize → pay —
through official stripe-python (its usual keep-alive `requests` session) and, when
`bindings-node/node_modules/stripe` is installed, official stripe-node (Node's
keep-alive agent), against billbridge's `billbridge-mock` (release build) and
`stripe-mock` (installed with `go install` into a scratch GOPATH), in one run. Rounds
alternate between the servers so that a noisy neighbour hurts both alike. Reports the
median time per request and per cycle, and with `--write` puts the table into
BENCHMARKS.md under "## The mock over HTTP".

This is a benchmark, not a test: it asserts nothing about time.

    .venv/bin/python bench/mock_server/bench.py [--cycles 200] [--rounds 5] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Optional

import stripe

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
STRIPE_MOCK_VERSION = "v0.203.0"
API_KEY = "sk_test_bench"
READY_PREFIX = "billbridge-mock listening on "
SECTION = "## The mock over HTTP"
STEPS = ("customer", "invoice item", "invoice", "finalize", "pay")


def cache_directory() -> pathlib.Path:
    root = os.environ.get("BILLBRIDGE_BENCH_CACHE")
    if root:
        return pathlib.Path(root)
    return pathlib.Path.home() / ".cache" / "billbridge-bench"


def build_billbridge_mock() -> pathlib.Path:
    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "-p", "billbridge-mock", "--bin", "billbridge-mock"],
        cwd=REPOSITORY,
        check=True,
    )
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
        text=True,
    )
    return pathlib.Path(json.loads(metadata.stdout)["target_directory"]) / "release" / "billbridge-mock"


def install_stripe_mock() -> pathlib.Path:
    gopath = cache_directory() / "go"
    binary = gopath / "bin" / "stripe-mock"
    if binary.exists():
        return binary
    go = shutil.which("go")
    if go is None:
        sys.exit("stripe-mock is a Go program: install Go, or put a stripe-mock binary at " + str(binary))
    environment = {
        **os.environ,
        "GOPATH": str(gopath),
        "GOBIN": str(gopath / "bin"),
        # Module cache files writable, so the scratch folder can be deleted.
        "GOFLAGS": "-modcacherw",
    }
    subprocess.run(
        [go, "install", f"github.com/stripe/stripe-mock@{STRIPE_MOCK_VERSION}"],
        env=environment,
        check=True,
    )
    return binary


@dataclass
class Server:
    name: str
    process: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def drain(output: IO[str]) -> None:
    """Read a server's remaining output in the background: a full pipe would block it
    (stripe-mock logs every request)."""
    threading.Thread(target=lambda: [None for _ in output], daemon=True).start()


def start_billbridge_mock(binary: pathlib.Path) -> Server:
    process = subprocess.Popen(
        [str(binary), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith(READY_PREFIX):
        process.kill()
        sys.exit(f"billbridge-mock did not start: {line!r}")
    drain(process.stdout)
    return Server("billbridge-mock", process, line[len(READY_PREFIX):])


def start_stripe_mock(binary: pathlib.Path) -> Server:
    process = subprocess.Popen(
        [str(binary), "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"Listening for HTTP at address: (\S+)", line)
        if found:
            drain(process.stdout)
            return Server(f"stripe-mock {STRIPE_MOCK_VERSION}", process, f"http://{found.group(1)}")
    sys.exit("stripe-mock did not start")


def cpu_seconds(pid: int) -> Optional[float]:
    """User plus system CPU time of a process so far (Linux), None elsewhere."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timings:
    requests: list[float] = field(default_factory=list)
    cycles: list[float] = field(default_factory=list)

    def extend(self, other: Timings) -> None:
        self.requests.extend(other.requests)
        self.cycles.extend(other.cycles)


def python_cycles(url: str, cycles: int, warmup: int) -> Timings:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": url}, max_network_retries=0)
    api: Any = getattr(client, "v1", client)
    steps: list[Callable[[dict[str, str]], None]] = [
        lambda ids: ids.update(customer=api.customers.create(params={"name": "Ada Lovelace"}).id),
        lambda ids: api.invoice_items.create(
            params={"customer": ids["customer"], "amount": 1500, "currency": "gbp", "description": "Consultation"}
        ),
        lambda ids: ids.update(
            invoice=api.invoices.create(
                params={"customer": ids["customer"], "currency": "gbp", "pending_invoice_items_behavior": "include"}
            ).id
        ),
        lambda ids: api.invoices.finalize_invoice(ids["invoice"]),
        lambda ids: api.invoices.pay(ids["invoice"], params={"paid_out_of_band": True}),
    ]
    timings = Timings()
    for index in range(warmup + cycles):
        ids: dict[str, str] = {}
        cycle_start = time.perf_counter()
        for step in steps:
            start = time.perf_counter()
            step(ids)
            if index >= warmup:
                timings.requests.append(time.perf_counter() - start)
        if index >= warmup:
            timings.cycles.append(time.perf_counter() - cycle_start)
    return timings


def node_stripe() -> Optional[pathlib.Path]:
    package = REPOSITORY / "bindings-node" / "node_modules" / "stripe" / "package.json"
    if package.exists() and shutil.which("node"):
        return package
    return None


def node_cycles(url: str, cycles: int, warmup: int) -> Timings:
    script = pathlib.Path(__file__).with_name("sdk_node.mjs")
    result = subprocess.run(
        ["node", str(script), url, API_KEY, str(cycles), str(warmup)],
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
        text=True,
    )
    measured = json.loads(result.stdout)
    return Timings(requests=measured["requests"], cycles=measured["cycles"])


def milliseconds(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.3f} ms"


def package_version(name: str) -> str:
    if name == "stripe-node":
        package = node_stripe()
        return json.loads(package.read_text())["version"] if package else "?"
    return stripe.VERSION


def table(
    results: dict[tuple[str, str], Timings], cycles_per_pair: int, load: str, server_cpu: dict[str, float]
) -> str:
    clients = sorted({client for client, _ in results}, key=lambda name: name != "stripe-python")
    servers = list(dict.fromkeys(server for _, server in results))
    lines = [
        "| SDK | server | median per request | median per cycle (5 requests) | requests timed |",
        "|---|---|---|---|---|",
    ]
    for client in clients:
        for server in servers:
            timings = results[(client, server)]
            lines.append(
                f"| {client} {package_version(client)} | {server} | {milliseconds(timings.requests)} "
                f"| {milliseconds(timings.cycles)} | {len(timings.requests)} |"
            )
    lines += [
        "",
        "Median per step, in milliseconds:",
        "",
        "| SDK | server | " + " | ".join(STEPS) + " |",
        "|---|---|" + "---|" * len(STEPS),
    ]
    for client in clients:
        for server in servers:
            requests = results[(client, server)].requests
            # Requests are timed in step order, cycle after cycle.
            steps = [requests[index :: len(STEPS)] for index in range(len(STEPS))]
            cells = " | ".join(f"{statistics.median(step) * 1000:.3f}" for step in steps)
            lines.append(f"| {client} | {server} | {cells} |")
    ratios = []
    ours = servers[0]
    for client in clients:
        for server in servers[1:]:
            mine = statistics.median(results[(client, ours)].requests)
            theirs = statistics.median(results[(client, server)].requests)
            ratios.append(f"{client}: billbridge-mock takes {mine / theirs:.2f}× the time of {server} per request")
    for server, milliseconds_per_request in server_cpu.items():
        ratios.append(f"{server} used {milliseconds_per_request:.3f} ms of CPU per request (user + system)")
    cpu = "unknown CPU"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node_version = ""
    if node_stripe():
        node_version = ", Node " + subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return "\n".join(
        [
            SECTION,
            "",
            "The same invoice cycle (customer → invoice item → invoice → finalize → pay, 5 requests)",
            "through the official SDKs with their usual keep-alive connections, against billbridge's",
            "mock server (`billbridge-mock`, release build) and Stripe's own `stripe-mock`",
            f"({STRIPE_MOCK_VERSION}), in one run, rounds alternating between the servers;",
            f"{cycles_per_pair} cycles per SDK and server after a warm-up. Run it with",
            "`.venv/bin/python bench/mock_server/bench.py --write`.",
            "",
            *lines,
            "",
            *[f"- {ratio}." for ratio in ratios],
            f"- Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}{node_version}.",
            f"- Load average {load} during the run. Other work on the machine lengthens the tails of",
            "  both servers, billbridge-mock's single thread more than stripe-mock's spinning Go",
            "  threads: compare runs made on a quiet machine.",
            "- The times include each SDK's own work (building the request, parsing the JSON into",
            "  its objects); the servers differ in the rest. stripe-mock answers fixtures without",
            "  state; billbridge-mock keeps state and applies Stripe's rules (balances, statuses,",
            "  idempotency, events).",
            "",
        ]
    )


def write_section(text: str) -> pathlib.Path:
    path = REPOSITORY / "BENCHMARKS.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    path.write_text(updated.rstrip("\n") + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=200, help="timed cycles per SDK and server (split over the rounds)")
    parser.add_argument("--rounds", type=int, default=5, help="alternations between the servers")
    parser.add_argument("--warmup", type=int, default=10, help="untimed cycles before each round")
    parser.add_argument("--billbridge-mock", type=pathlib.Path, help="a built billbridge-mock instead of a release build")
    parser.add_argument("--no-node", action="store_true", help="leave stripe-node out")
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    arguments = parser.parse_args()

    ours_binary = arguments.billbridge_mock or build_billbridge_mock()
    theirs_binary = install_stripe_mock()
    servers = [start_billbridge_mock(ours_binary), start_stripe_mock(theirs_binary)]
    clients: dict[str, Callable[[str, int, int], Timings]] = {"stripe-python": python_cycles}
    if not arguments.no_node and node_stripe():
        clients["stripe-node"] = node_cycles
    per_round = max(1, arguments.cycles // arguments.rounds)
    results: dict[tuple[str, str], Timings] = {
        (client, server.name): Timings() for client in clients for server in servers
    }
    load_before = os.getloadavg()[0]
    cpu_before = {server.name: cpu_seconds(server.process.pid) for server in servers}
    served = {server.name: 0 for server in servers}
    try:
        for round_number in range(arguments.rounds):
            # Alternate which server goes first in each round.
            order = servers if round_number % 2 == 0 else list(reversed(servers))
            for server in order:
                for client, run in clients.items():
                    results[(client, server.name)].extend(run(server.url, per_round, arguments.warmup))
                    served[server.name] += (per_round + arguments.warmup) * len(STEPS)
            print(f"round {round_number + 1}/{arguments.rounds} done", file=sys.stderr)
        server_cpu = {}
        for server in servers:
            before, after = cpu_before[server.name], cpu_seconds(server.process.pid)
            if before is not None and after is not None:
                server_cpu[server.name] = (after - before) / served[server.name] * 1000
    finally:
        for server in servers:
            server.stop()
    load = f"{load_before:.1f} → {os.getloadavg()[0]:.1f}"
    text = table(results, per_round * arguments.rounds, load, server_cpu)
    print(text)
    if arguments.write:
        print(f"written to {write_section(text)}", file=sys.stderr)


if __name__ == "__main__":
    main()

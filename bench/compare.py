"""billbridge side by side with its peers, in one run, on the same payloads.

Run `bench/compare` from the repository root (it creates `bench/.scratch` with a Python
virtualenv, the official SDKs, localstripe and Stripe's stripe-mock, and builds
billbridge in release mode), then read the table it prints. Not part of `make test`:
figures depend on the machine. Each figure names its bound where one exists (the least
work any correct program must do on the same input, measured in the same run).

Sections: webhook verify + typed fields; form encoding; one invoice cycle through the
official stripe-python against billbridge's mock over HTTP, stripe-mock and
localstripe, and the same cycle in-process; bulk sync against a rate-limited server;
CSV export; build times and sizes.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import timeit
from typing import Callable, Optional

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRATCH = ROOT / "bench" / ".scratch"
FIXTURES = ROOT / "tests" / "data" / "stripe" / "fixtures"
SECRET = "whsec_compare_4eC39HqLyjWDarjtT1zdp7dc"
ROWS: list[tuple[str, str, str, str]] = []


def row(section: str, contender: str, figure: str, note: str = "") -> None:
    ROWS.append((section, contender, figure, note))
    print(f"  {section:<22} {contender:<42} {figure:<28} {note}", flush=True)


def run(command: list[str], cwd: pathlib.Path = ROOT, env: Optional[dict[str, str]] = None, timeout: int = 3600) -> str:
    merged = dict(os.environ)
    merged.update(env or {})
    done = subprocess.run(command, cwd=cwd, env=merged, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout + done.stderr


def timed(function: Callable[[], object], number: int, repeat: int = 7) -> tuple[float, float, float]:
    """Median, lowest and highest seconds per call over `repeat` rounds of `number`."""
    rounds = [value / number for value in timeit.Timer(function).repeat(repeat=repeat, number=number)]
    return statistics.median(rounds), min(rounds), max(rounds)


def micro(values: tuple[float, float, float]) -> str:
    median, low, high = values
    return f"{median * 1e6:,.1f} µs ({low * 1e6:,.1f}–{high * 1e6:,.1f})"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def delivery() -> tuple[bytes, str]:
    """The ~8 KB invoice.paid event every webhook contender verifies."""
    import billbridge

    invoice = json.loads((FIXTURES / "invoice.json").read_text(encoding="utf-8"))
    line = invoice["lines"]["data"][0]
    invoice["lines"]["data"] = [dict(line, id=f"il_compare{index:04}") for index in range(5)]
    invoice["status"] = "paid"
    invoice["metadata"] = {f"key_{index}": f"value {index}" for index in range(6)}
    event = {
        "id": "evt_compare",
        "object": "event",
        "api_version": "2026-07-29.dahlia",
        "created": int(time.time()),
        "data": {"object": invoice},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "invoice.paid",
    }
    body = json.dumps(event, indent=2).encode()
    return body, billbridge.sign_payload(body, SECRET)


def webhooks(body: bytes, header: str) -> None:
    import billbridge
    import stripe

    print("\nWebhook verify + typed fields (same bytes)")
    out = run(["target/release/examples/bench_webhook"])
    figures = dict(re.findall(r"^(.*?):\s+([\d.]+) µs", out, re.M))
    bound = float(figures["raw bound (sum)"])
    rust = float(figures["construct_event (verify + typed parse)"])
    row("webhook", "raw bound (HMAC + one IgnoredAny pass)", f"{bound:.1f} µs", "Rust, same bytes")
    row("webhook", "billbridge (Rust)", f"{rust:.1f} µs", f"{rust / bound:.2f}× the bound (target ≤ 1.5×)")
    ours = timed(lambda: billbridge.construct_event(body, header, SECRET).status, 2000)
    payload = body.decode()
    theirs = timed(lambda: stripe.Webhook.construct_event(payload, header, SECRET).data.object.status, 200)
    row("webhook", "billbridge (Python binding)", micro(ours), f"{theirs[0] / ours[0]:.0f}× stripe-python (target ≥ 50×)")
    row("webhook", "stripe-python Webhook.construct_event", micro(theirs))
    node = ROOT / "bindings-node" / "bench" / "construct_event.mjs"
    if node.exists() and shutil.which("node"):
        try:
            out = run(["node", str(node)], cwd=ROOT / "bindings-node")
            figures = dict(re.findall(r"^(billbridge|stripe) [^:]*:\s+([\d.]+) µs", out, re.M))
            ratio = float(figures["stripe"]) / float(figures["billbridge"])
            row("webhook", "billbridge (Node binding)", f"{float(figures['billbridge']):.1f} µs", f"{ratio:.2f}× stripe-node (target ≥ 1.5×)")
            row("webhook", "stripe-node webhooks.constructEvent", f"{float(figures['stripe']):.1f} µs", "best of 5 rounds of 20,000")
        except (RuntimeError, KeyError) as error:
            row("webhook", "Node binding", "not run", str(error).splitlines()[0])


def form_encoding() -> None:
    print("\nForm encoding of one invoice with metadata and 10 lines")
    out = run(["target/release/examples/bench_form"])
    match = re.search(r"median ([\d.]+) µs", out)
    rust = float(match.group(1)) if match else float("nan")
    row("form encoding", "billbridge (Rust, build + encode)", f"{rust:.2f} µs")
    try:
        from stripe import _encode  # type: ignore[attr-defined]
        from urllib.parse import urlencode

        params = {
            "customer": "cus_benchmark0001",
            "currency": "gbp",
            "description": "Treatment plan",
            "metadata": {f"key_{index}": f"value {index}" for index in range(6)},
            "lines": [
                {
                    "description": f"Session {index}",
                    "quantity": 1 + index,
                    "metadata": {"service_id": f"S-{index}"},
                    "price_data": {"currency": "gbp", "product_data": {"name": f"Session {index}"}, "unit_amount": 4500},
                }
                for index in range(10)
            ],
        }

        def encode() -> str:
            try:
                pairs = list(_encode._api_encode(params, "V1"))  # type: ignore[attr-defined]
            except TypeError:
                pairs = list(_encode._api_encode(params))  # type: ignore[attr-defined]
            return urlencode(pairs)

        theirs = timed(encode, 500)
        row("form encoding", "stripe-python encoder", micro(theirs), f"billbridge {theirs[0] * 1e6 / rust:.0f}× faster")
    except Exception as error:  # noqa: BLE001 - an SDK internal may move: say so, do not fail
        row("form encoding", "stripe-python encoder", "not run", f"{type(error).__name__}: {error}")


def invoice_cycle(stripe_base: str, key: str) -> tuple[float, float, float]:
    """One customer → invoice → item → finalize → pay cycle (5 requests) through
    stripe-python with a keep-alive session; seconds per cycle over 50 cycles: median,
    fastest and slowest."""
    import warnings

    import stripe

    # stripe-python warns about its own v1 namespaces on every call; the figures are what matters here.
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    client = stripe.StripeClient(key, base_addresses={"api": stripe_base}, max_network_retries=0)

    def step(name: str, call: Callable[[], stripe.StripeObject]) -> stripe.StripeObject:
        try:
            return call()
        except stripe.StripeError as error:
            raise RuntimeError(f"{name}: {str(error).splitlines()[0]}") from error

    def cycle() -> None:
        customer = step("create customer", lambda: client.customers.create(params={"name": "Compare", "email": "compare@example.com"}))
        invoice = step(
            "create a one-off invoice",
            lambda: client.invoices.create(params={"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 7}),
        )
        step(
            "add an invoice item",
            lambda: client.invoice_items.create(params={"customer": customer.id, "invoice": invoice.id, "amount": 4500, "currency": "usd"}),
        )
        step("finalize", lambda: client.invoices.finalize_invoice(invoice.id))
        step("pay", lambda: client.invoices.pay(invoice.id, params={"paid_out_of_band": True}))

    cycle()
    rounds = []
    for _ in range(50):
        start = time.perf_counter()
        cycle()
        rounds.append(time.perf_counter() - start)
    return statistics.median(rounds), min(rounds), max(rounds)


def cycles() -> None:
    print("\nOne invoice cycle through official stripe-python (5 requests, keep-alive)")
    servers: list[tuple[str, list[str], dict[str, str]]] = []
    port = free_port()
    servers.append(("billbridge mock over HTTP", ["target/release/billbridge-mock", "--port", str(port)], {}))
    stripe_mock = SCRATCH / "bin" / "stripe-mock"
    if stripe_mock.exists():
        servers.append(("stripe-mock v0.203.0 (stateless)", [str(stripe_mock), "-http-port", "{port}"], {}))
    localstripe = SCRATCH / "venv" / "bin" / "localstripe"
    if localstripe.exists():
        servers.append(("localstripe", [str(localstripe), "--port", "{port}"], {}))
    for name, command, env in servers:
        port = free_port() if "{port}" in " ".join(command) else port
        command = [part.replace("{port}", str(port)) for part in command]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
        try:
            wait_for_port(port)
            median, fastest, slowest = invoice_cycle(f"http://127.0.0.1:{port}", "sk_test_compare")
            row(
                "invoice cycle",
                name,
                f"{median * 1e3:,.2f} ms/cycle ({fastest * 1e3:,.2f}–{slowest * 1e3:,.2f})",
                f"{median * 1e3 / 5:,.2f} ms/request",
            )
        except Exception as error:  # noqa: BLE001 - a peer that cannot run the cycle is reported, not fatal
            row("invoice cycle", name, "cannot run the cycle", str(error)[:120])
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    out = run(["target/release/examples/bench_mock_cycle"])
    match = re.search(r"mean: ([\d.]+) µs", out)
    floor = re.search(r"floor: decoding .* takes ([\d.]+) µs", out)
    row(
        "invoice cycle",
        "billbridge in-process (StripeClient + MockStripe)",
        f"{float(match.group(1)) if match else float('nan'):,.1f} µs/cycle",
        f"target ≤ 100 µs; decoding the 4 answers alone: {floor.group(1) if floor else '?'} µs",
    )


def bulk() -> None:
    print("\nBulk sync against the mock's HTTP front with a rate limit")
    out = run(["target/release/examples/bench_bulk"], timeout=3600)
    for line in out.strip().splitlines()[1:]:
        row("bulk", "billbridge (HTTP transport)", "", line.strip())


def csv_export() -> None:
    print("\nCSV export of 100,000 invoices from the SQLite store")
    out = run(["target/release/examples/bench_csv_export", "--sqlite"], timeout=3600)
    for line in out.strip().splitlines():
        if line.strip():
            row("csv export", "billbridge (SQLite store)", "", line.strip())


def build_and_size() -> None:
    print("\nBuild and size")
    for label, features in [("core without http", ["--no-default-features"]), ("core with http", ["--no-default-features", "--features", "http"])]:
        target = SCRATCH / f"target-{label.replace(' ', '-')}"
        shutil.rmtree(target, ignore_errors=True)
        start = time.perf_counter()
        run(["cargo", "build", "--release", "-p", "billbridge", *features], env={"CARGO_TARGET_DIR": str(target)})
        row("clean build", f"billbridge {label}", f"{time.perf_counter() - start:.0f} s")
        shutil.rmtree(target, ignore_errors=True)
    crate = SCRATCH / "async-stripe-probe"
    (crate / "src").mkdir(parents=True, exist_ok=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "async-stripe-probe"\nversion = "0.0.0"\nedition = "2021"\n\n[workspace]\n\n'
        '[dependencies]\nasync-stripe = { version = "0.37", default-features = false, features = ["runtime-tokio-hyper-rustls", "billing"] }\n',
        encoding="utf-8",
    )
    (crate / "src" / "main.rs").write_text("fn main() { let _ = stripe::Client::new(\"sk_test_x\"); }\n", encoding="utf-8")
    shutil.rmtree(crate / "target", ignore_errors=True)
    start = time.perf_counter()
    try:
        run(["cargo", "build", "--release"], cwd=crate, env={"CARGO_TARGET_DIR": str(crate / "target")})
        row("clean build", "async-stripe 0.37 (billing, tokio + rustls)", f"{time.perf_counter() - start:.0f} s", "same machine, same profile")
    except RuntimeError as error:
        row("clean build", "async-stripe 0.37", "failed", str(error).splitlines()[0][:80])
    wheels = sorted((SCRATCH / "wheels").glob("billbridge-*.whl"))
    if wheels:
        row("size", "Python wheel (abi3, release)", f"{wheels[-1].stat().st_size / 1e6:.1f} MB")
    addon = sorted((ROOT / "bindings-node").glob("*.node"))
    if addon:
        row("size", "Node addon (release)", f"{addon[-1].stat().st_size / 1e6:.1f} MB")
    library = ROOT / "target" / "release" / "libbillbridge_uniffi.so"
    if library.exists():
        stripped = SCRATCH / "libbillbridge_uniffi.stripped.so"
        shutil.copy(library, stripped)
        subprocess.run(["strip", str(stripped)], check=False)
        row("size", "mobile library (UniFFI, release, stripped)", f"{stripped.stat().st_size / 1e6:.1f} MB")


def main() -> None:
    sections = sys.argv[1:] or ["webhooks", "form", "cycles", "bulk", "csv", "build"]
    print(f"billbridge compare on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    body, header = delivery()
    if "webhooks" in sections:
        webhooks(body, header)
    if "form" in sections:
        form_encoding()
    if "cycles" in sections:
        cycles()
    if "bulk" in sections:
        bulk()
    if "csv" in sections:
        csv_export()
    if "build" in sections:
        build_and_size()
    print("\n| section | contender | figure | note |\n| --- | --- | --- | --- |")
    for section, contender, figure, note in ROWS:
        print(f"| {section} | {contender} | {figure} | {note} |")


if __name__ == "__main__":
    main()

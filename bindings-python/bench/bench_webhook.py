"""Times billbridge.construct_event against stripe-python's Webhook.construct_event on
the same signed `invoice.paid` delivery (Stripe's example invoice) and prints both.

    pip install stripe && python bindings-python/bench/bench_webhook.py

Target: billbridge at least 50 times faster. This is a benchmark, not a test: the
numbers depend on the machine.
"""

from __future__ import annotations

import json
import pathlib
import time
import timeit

import billbridge

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "stripe" / "fixtures"
SECRET = "whsec_bench_4eC39HqLyjWDarjtT1zdp7dc"


def delivery() -> tuple[bytes, str]:
    invoice = json.loads((FIXTURES / "invoice.json").read_text(encoding="utf-8"))
    event = {
        "id": "evt_bench",
        "object": "event",
        "type": "invoice.paid",
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2026-07-29.dahlia",
        "data": {"object": invoice},
    }
    body = json.dumps(event).encode()
    return body, billbridge.sign_payload(body, SECRET)


def per_call(function: object, rounds: int) -> float:
    timer = timeit.Timer(function)  # type: ignore[arg-type]
    best = min(timer.repeat(repeat=5, number=rounds))
    return best / rounds


def main() -> None:
    body, header = delivery()
    ours = per_call(lambda: billbridge.construct_event(body, header, SECRET).status, 2000)
    print(f"billbridge.construct_event       {ours * 1e6:9.1f} µs per delivery ({len(body)} bytes)")
    try:
        import stripe
    except ImportError:
        print("stripe-python is not installed: pip install stripe")
        return
    payload = body.decode()
    theirs = per_call(lambda: stripe.Webhook.construct_event(payload, header, SECRET).data.object.status, 200)
    print(f"stripe.Webhook.construct_event   {theirs * 1e6:9.1f} µs per delivery")
    print(f"billbridge is {theirs / ours:.0f}× faster")


if __name__ == "__main__":
    main()

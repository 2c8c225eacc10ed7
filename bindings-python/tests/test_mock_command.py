"""The ``billbridge-mock`` console script the wheel installs: it serves the mock over
HTTP as the Rust binary does, forwards signed webhooks, and stops cleanly on SIGTERM
and Ctrl-C."""

from __future__ import annotations

import http.server
import json
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import IO

import pytest

import billbridge

# A guard against hanging, never a timing assertion.
HANG_GUARD = 60


@pytest.fixture(scope="module")
def command() -> str:
    script = pathlib.Path(sys.executable).parent / "billbridge-mock"
    assert script.exists(), f"the wheel did not install the console script at {script}"
    return str(script)


class Running:
    """The command started with some options, its readiness line read."""

    def __init__(self, command: str, *arguments: str) -> None:
        self.process = subprocess.Popen(
            [command, *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=self._read, args=(stdout,), daemon=True).start()
        ready = self.next_line()
        assert ready.startswith("billbridge-mock listening on http://"), ready
        self.url = ready.rsplit(" ", 1)[1]

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self) -> str:
        return self.lines.get(timeout=HANG_GUARD)

    def request(self, method: str, path: str, form: str = "") -> tuple[int, dict[str, object]]:
        data = form.encode() if method == "POST" else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": "Bearer sk_test_console_script"},
        )
        try:
            with urllib.request.urlopen(request, timeout=HANG_GUARD) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self, signal_number: int) -> int:
        self.process.send_signal(signal_number)
        return self.process.wait(timeout=HANG_GUARD)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=HANG_GUARD)


class WebhookEndpoint:
    """A host's webhook endpoint on loopback that refuses each event's first attempt."""

    def __init__(self) -> None:
        self.accepted: queue.Queue[tuple[bytes, dict[str, str]]] = queue.Queue()
        attempts: dict[str, int] = {}
        accepted = self.accepted

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = json.loads(body)["id"]
                attempts[event_id] = attempts.get(event_id, 0) + 1
                status = 500 if attempts[event_id] == 1 else 200
                if status == 200:
                    accepted.put((body, dict(self.headers.items())))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[WebhookEndpoint]:
    endpoint = WebhookEndpoint()
    yield endpoint
    endpoint.close()


def test_help_lists_the_options_and_usage_errors_exit_2(command: str) -> None:
    shown = subprocess.run([command, "--help"], capture_output=True, text=True, timeout=HANG_GUARD)
    assert shown.returncode == 0
    for option in ("--port", "--key-policy", "--seed", "--start-time", "--fault", "--forward-to"):
        assert option in shown.stdout
    wrong = subprocess.run(
        [command, "--port", "not-a-port"], capture_output=True, text=True, timeout=HANG_GUARD
    )
    assert wrong.returncode == 2
    assert "--port" in wrong.stderr
    assert wrong.stdout == ""


def test_serves_stripe_and_forwards_signed_webhooks_then_stops_on_sigterm(
    command: str, endpoint: WebhookEndpoint
) -> None:
    running = Running(
        command,
        "--port", "0",
        "--start-time", "2030-06-01",
        "--forward-to", endpoint.url,
        "--forward-backoff", "10ms",
    )
    try:
        assert running.next_line() == f"forwarding webhooks to {endpoint.url}"
        secret_line = running.next_line()
        assert secret_line.startswith("webhook signing secret: whsec_")
        secret = secret_line.rsplit(" ", 1)[1]

        status, customer = running.request("POST", "/v1/customers", "name=Ada+Lovelace")
        assert status == 200
        assert customer["created"] == 1_906_502_400
        status, missing = running.request("GET", "/v1/invoices/in_missing")
        assert status == 404
        assert missing["error"]["code"] == "resource_missing"  # type: ignore[index]

        body, headers = endpoint.accepted.get(timeout=HANG_GUARD)
        event = billbridge.construct_event(body, headers["Stripe-Signature"], secret)
        assert event.type == "customer.created"
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert headers["User-Agent"].startswith("Stripe/1.0")

        assert running.stop(signal.SIGTERM) == 0
    finally:
        running.kill()


def test_ctrl_c_stops_the_console_script_cleanly(command: str) -> None:
    running = Running(command, "--port", "0")
    try:
        status, _ = running.request("GET", "/v1/customers")
        assert status == 200
        assert running.stop(signal.SIGINT) == 0
    finally:
        running.kill()


def test_python_m_runs_the_same_command() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "billbridge.mock_server", "--version"],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert shown.returncode == 0
    assert shown.stdout.startswith("billbridge-mock ")

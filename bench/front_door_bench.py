"""Benchmark: the front door (uvicorn + bolt) acking signed slash commands and button clicks.

A ``casework serve``-equivalent front door (``casework.web``, with the real bolt app, on
SQLite) runs in its own process; this process sends correctly signed ``/casework help``
commands and ``triage_assign`` button clicks (half each) at increasing rates, open loop (a
request is sent on schedule whether or not the previous ones were answered), each on a new
connection as Slack does, and records the time from send to the HTTP 200 (the ack Slack waits
three seconds for) and any errors. The baseline, measured in the same run, is ``GET /healthz``
on the same server: the cost of the server, the connection and the limits alone.

Usage: ``python bench/front_door_bench.py [--rates 2,5,10,20,50] [--seconds 10]``
Prints a Markdown table to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.slack_api import fake_slack_api
from tests.support.slack_requests import signature, slash_command_body

SECRET = "bench-signing-secret"


def serve(port: int, database_url: str, api_url: str) -> None:
    """The server process: migrate, one case to click on, then serve until killed."""
    from slack_sdk import WebClient

    from bot.app import build_app
    from casework.web import app as web_app
    from casework.web.server import bind, make_server
    from store.db import make_engine, upgrade
    from tests.bot.conftest import make_case
    from tests.conftest import make_settings

    settings = make_settings(
        database_url,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        caseworkers=["U_CW"],
        managers=["U_CW"],
        triage_channel="C_T",
    )
    engine = make_engine(database_url)
    upgrade(engine)
    reference = make_case(engine, settings)
    client = WebClient(token="xoxb-bench", base_url=api_url, timeout=10)
    server = make_server(
        web_app.build(settings, bolt=build_app(settings, engine, client=client), engine=engine), settings
    )
    sock = bind("127.0.0.1", port)
    print(json.dumps({"reference": reference}), flush=True)
    server.run(sockets=[sock])


def _click_body(reference: str, n: int, response_url: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": "U_CW", "username": "cw", "team_id": "T111"},
        "api_app_id": "A111",
        "token": "verification_token",
        "team": {"id": "T111", "domain": "test"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C_T", "is_ephemeral": False},
        "trigger_id": f"{n}.trigger",
        "channel": {"id": "C_T", "name": "triage"},
        "message": {"ts": "1.1", "type": "message"},
        "response_url": response_url,
        "actions": [
            {
                "type": "users_select",
                "action_id": "triage_assign",
                "block_id": f"triage:{reference}",
                "selected_user": "U_CW",
                "action_ts": f"{n}.1",
            }
        ],
    }
    return "payload=" + quote(json.dumps(payload))


def _send(port: int, method: str, path: str, body: str) -> tuple[float, int]:
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if body:
        headers |= {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(SECRET, ts, body)}
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(method, path, body=body.encode() if body else None, headers=headers)
        status = conn.getresponse().status
        conn.close()
    except OSError:
        status = 0
    return time.perf_counter() - started, status


def run_rate(port: int, rate: float, seconds: float, make: object) -> dict[str, float]:
    count = int(rate * seconds)
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        method, path, body = make(n)  # type: ignore[operator]
        result = _send(port, method, path, body)
        with lock:
            results.append(result)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=128) as pool:
        for n in range(count):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, n)
    times = sorted(t for t, status in results if status == 200)
    errors = sum(1 for _, status in results if status != 200)
    q = statistics.quantiles(times, n=100) if len(times) >= 2 else [times[0] if times else 0] * 99
    return {"sent": count, "p50": q[49] * 1000, "p99": q[98] * 1000, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="2,5,10,20,50")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    with fake_slack_api() as api, tempfile.TemporaryDirectory() as tmp:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), f"sqlite:///{tmp}/bench.db", api.base_url],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert server.stdout is not None
        reference = json.loads(server.stdout.readline())["reference"]
        while _send(port, "GET", "/healthz", "")[1] != 200:
            time.sleep(0.1)
        try:
            response_url = api.response_url()

            def slack(n: int) -> tuple[str, str, str]:
                if n % 2:
                    return "POST", "/slack/events", _click_body(reference, n, response_url)
                body = slash_command_body(
                    "help", user_id="U_CW", response_url=response_url, trigger_id=f"{n}.t"
                )
                return "POST", "/slack/events", body

            print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
            print(
                "| rate (req/s) | requests | healthz p50 / p99 ms | Slack p50 ms | Slack p99 ms "
                "| errors | p50 ratio |"
            )
            print("|---|---|---|---|---|---|---|")
            for rate in rates:
                base = run_rate(port, rate, args.seconds, lambda n: ("GET", "/healthz", ""))
                got = run_rate(port, rate, args.seconds, slack)
                ratio = got["p50"] / base["p50"] if base["p50"] else 0
                print(
                    f"| {rate:g} | {got['sent']} | {base['p50']:.1f} / {base['p99']:.1f} "
                    f"| {got['p50']:.1f} | "
                    f"{got['p99']:.1f} | {got['errors'] + base['errors']} | {ratio:.1f} |",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        main()

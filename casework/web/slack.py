"""``POST /slack/events``: bolt, through its Starlette adapter, with a replay cache in front.

Bolt checks the signature and refuses timestamps more than five minutes old; inside those five
minutes a captured request could be sent again and would run again. So a correctly signed
request's (timestamp, signature) pair is remembered for the window, and a second request with
the same pair is refused with 401 before bolt sees it. Only correctly signed requests are
remembered (nobody else can fill the cache), and pairs older than the window are forgotten.
The cache is in this process's memory: one ``casework serve`` serves one office. A repeat that
says it is Slack's own retry (``X-Slack-Retry-Num``) is answered 200 with nothing run, so that
Slack stops retrying something that was already handled.

``App.dispatch`` blocks until the listener acks (bolt's sync app), so it runs in Starlette's
thread pool, never on the event loop that every other connection shares.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import anyio.to_thread
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WINDOW_SECONDS = 5 * 60


class ReplayCache:
    """(timestamp, signature) pairs seen in the last :data:`WINDOW_SECONDS`, oldest first."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, timestamp: str, signature: str) -> bool:
        """True the first time a pair is offered within the window; False for a replay."""
        now = time.monotonic()
        with self._lock:
            while self._seen:
                seen_at = next(iter(self._seen.values()))
                if now - seen_at <= self.window:
                    break
                self._seen.popitem(last=False)
            key = (timestamp, signature)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def __len__(self) -> int:
        return len(self._seen)


def route(bolt: App, signing_secret: str, *, cache: ReplayCache | None = None) -> Route:
    verifier = SignatureVerifier(signing_secret)
    replays = cache or ReplayCache()

    async def events(request: Request) -> Response:
        body = await request.body()  # already read, within the limits, by BodyLimits
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return JSONResponse({"ok": False, "error": "body is not UTF-8"}, status_code=400)
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        signed = timestamp.isdigit() and verifier.is_valid(
            body=text, timestamp=timestamp, signature=signature
        )
        if signed and not replays.first_time(timestamp, signature):
            if request.headers.get("x-slack-retry-num"):
                # Slack re-sending what it already delivered: say "received" so it stops, run nothing
                return Response(status_code=200)
            return JSONResponse({"ok": False, "error": "replayed request"}, status_code=401)
        bolt_request = to_bolt_request(request, body)
        answer = await anyio.to_thread.run_sync(bolt.dispatch, bolt_request)
        return to_starlette_response(answer)

    return Route("/slack/events", events, methods=["POST"])

"""A stand-in for the Slack Web API: a local HTTP server that records every call.

Modelled on bolt-python's ``tests/mock_web_api_server``. Point a ``WebClient`` at
``api.base_url``; ``response_url`` and file-upload URLs also land here (``/response/…``,
``/upload/…``), so a test can assert on everything the bot sent. ``fail(method, mode, times)``
makes the next calls of a method answer 429 (with ``Retry-After``), 500, or hang; ``"late"``
carries the call out (the message is posted) and then answers only after ``hang_seconds``, as
Slack does when its answer is slow: the client times out on a post that happened.

Files posted in Slack: :meth:`FakeSlackAPI.add_file` registers one; ``files.info`` describes it
and ``GET`` of its ``url_private`` serves its bytes, but only with the bot token (as Slack does).

Posted messages are kept per channel (``posted``) with their ``metadata``, and the files a
completed upload shared there as messages with ``files``; ``conversations.history`` answers
from them (newest first, ``oldest`` honoured, metadata only with ``include_all_metadata``), so
a sender can look for what it already posted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    path: str
    method: str  # the Web API method ("chat.postMessage"), or the path for other URLs
    body: dict[str, Any]
    headers: dict[str, str]
    raw: bytes = b""


@dataclass
class _Failure:
    mode: str
    times: int
    retry_after: int = 1


@dataclass
class FakeSlackAPI:
    server: ThreadingHTTPServer
    calls: list[Call] = field(default_factory=list)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    #: conversations.info answers by channel id (``is_private``, ``is_ext_shared``, …)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: conversations.members answers by channel id, paged ``members_page`` at a time
    members: dict[str, list[str]] = field(default_factory=dict)
    members_page: int = 100
    failures: dict[str, _Failure] = field(default_factory=dict)
    hang_seconds: float = 3.0
    socket_url: str = ""  # what apps.connections.open hands out (tests.support.slack_socket)
    #: files posted in Slack, by id: the ``files.info`` object plus ``"content"`` (bytes)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    token: str = "xoxb-test"
    #: channel → messages posted there (dicts with ts, text, metadata), oldest first
    posted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: int = 0

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.url}/response/{name}"

    def fail(self, method: str, mode: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``mode``: "429", "500", "hang" or "late"."""
        self.failures[method] = _Failure(mode, times, retry_after)

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def responses(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path.startswith("/response/")]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = (
                self.of(method)
                if not method.startswith("/")
                else [c for c in list(self.calls) if c.path.startswith(method)]
            )
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} call(s) of {method}, saw {[c.method for c in self.calls]}")

    def add_file(
        self,
        file_id: str,
        name: str,
        content: bytes,
        *,
        mimetype: str = "application/pdf",
        size: int | None = None,
    ) -> dict[str, Any]:
        """A file someone posted in Slack; returns the object a ``file_share`` event carries."""
        url = f"{self.url}/files-pri/T111-{file_id}/{name}"
        info = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rpartition(".")[2],
            "size": len(content) if size is None else size,
            "url_private": url,
            "url_private_download": url + "?download=1",
        }
        self.files[file_id] = {**info, "content": content}
        return dict(info)

    def uploads(self) -> list[Call]:
        """The bytes the bot uploaded (``files.getUploadURLExternal``'s URLs)."""
        with self.lock:
            return [c for c in self.calls if c.path.startswith("/upload/")]

    def next_ts(self) -> str:
        """Timestamps like Slack's: the current time, always increasing."""
        with self.lock:
            return f"{int(time.time())}.{self._next():06d}"

    def _next(self) -> int:  # with the lock held
        self._ts += 1
        return self._ts

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        failure = self.failures.get(call.method)
        if failure and failure.times > 0:
            failure.times -= 1
            if failure.mode == "429":
                return 429, {"Retry-After": str(failure.retry_after)}, {"ok": False, "error": "ratelimited"}
            if failure.mode == "500":
                return 500, {}, {"ok": False, "error": "internal_error"}
            if failure.mode == "hang":
                time.sleep(self.hang_seconds)
                return 504, {}, {"ok": False, "error": "timeout"}
            if failure.mode == "late":
                answer = self._carry_out(call)
                time.sleep(self.hang_seconds)
                return answer
        return self._carry_out(call)

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.posted.get(channel, []))

    def _carry_out(self, call: Call) -> tuple[int, dict[str, str], Any]:
        method, body = call.method, call.body
        if call.path.startswith("/response/") or call.path.startswith("/upload/"):
            return 200, {}, "ok"
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = body.get("ts") or self.next_ts()
            if method == "chat.postMessage":
                metadata = body.get("metadata")
                if isinstance(metadata, str):
                    metadata = json.loads(metadata or "null")
                with self.lock:
                    self.posted.setdefault(str(body.get("channel")), []).append(
                        {
                            "ts": ts,
                            "text": body.get("text"),
                            "metadata": metadata,
                            "thread_ts": body.get("thread_ts"),
                        }
                    )
            return (
                200,
                {},
                {"ok": True, "channel": body.get("channel"), "ts": ts, "message": {"text": body.get("text")}},
            )
        if method in ("conversations.history", "conversations.replies"):
            oldest = float(body.get("oldest") or 0)
            thread = body.get("ts") if method == "conversations.replies" else None
            with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
            found = [
                {
                    "type": "message",
                    "ts": m["ts"],
                    "text": m["text"],
                    **({"metadata": m["metadata"]} if with_metadata and m["metadata"] else {}),
                    **({"files": m["files"], "upload": True} if m.get("files") else {}),
                }
                for m in reversed(self.messages_in(str(body.get("channel"))))
                if float(m["ts"]) > oldest and (thread is None or thread in (m["ts"], m.get("thread_ts")))
            ]
            return 200, {}, {"ok": True, "messages": found, "has_more": False}
        if method == "conversations.open":
            return 200, {}, {"ok": True, "channel": {"id": "D" + str(body.get("users", "X"))[1:]}}
        if method in ("views.open", "views.publish", "views.update"):
            view = body.get("view")
            return 200, {}, {"ok": True, "view": json.loads(view) if isinstance(view, str) else view}
        if method == "usergroups.users.list":
            return 200, {}, {"ok": True, "users": self.usergroups.get(str(body.get("usergroup")), [])}
        if method == "conversations.info":
            channel = str(body.get("channel"))
            if channel not in self.channels:
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            return 200, {}, {"ok": True, "channel": {"id": channel, **self.channels[channel]}}
        if method == "conversations.members":
            channel = str(body.get("channel"))
            if channel not in self.members:
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            start = int(body.get("cursor") or 0)
            page = self.members[channel][start : start + self.members_page]
            more = start + self.members_page < len(self.members[channel])
            cursor = str(start + self.members_page) if more else ""
            return 200, {}, {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}
        if method == "auth.test":
            return 200, {}, {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T111"}
        if method == "apps.connections.open":
            if not self.socket_url:
                return 200, {}, {"ok": False, "error": "socket_mode_not_enabled"}
            return 200, {}, {"ok": True, "url": self.socket_url}
        if method == "files.info":
            found = self.files.get(str(body.get("file")))
            if found is None:
                return 200, {}, {"ok": False, "error": "file_not_found"}
            return 200, {}, {"ok": True, "file": {k: v for k, v in found.items() if k != "content"}}
        if method == "files.getUploadURLExternal":
            file_id = f"FUP{self.next_ts().replace('.', '')}"
            return 200, {}, {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = body.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            shared = [{"id": f["id"], "title": f.get("title")} for f in files]
            channel = body.get("channel_id")
            if channel:  # shared: a message carrying the files appears in the conversation
                text = body.get("initial_comment") or ""
                with self.lock:
                    ts = f"{int(time.time())}.{self._next():06d}"
                    message = {"ts": ts, "text": text, "metadata": None, "files": shared}
                    self.posted.setdefault(str(channel), []).append(message)
            return 200, {}, {"ok": True, "files": shared}
        return 200, {}, {"ok": True}


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    return {}


def _handler(api: FakeSlackAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = urlsplit(self.path).path
            method = path[len("/api/") :] if path.startswith("/api/") else path
            body = _parse(raw, self.headers.get("Content-Type", ""))
            call = Call(path=path, method=method, body=body, headers=dict(self.headers.items()), raw=raw)
            with api.lock:
                api.calls.append(call)
            status, headers, answer = api.answer(call)
            data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header(
                    "Content-Type", "text/plain" if isinstance(answer, str) else "application/json"
                )
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (a "hang" test): nothing to answer
                pass

        do_PUT = do_POST

        def do_GET(self) -> None:  # Web API methods called with GET, and files' url_private
            parts = urlsplit(self.path)
            path = parts.path
            if not path.startswith("/api/"):
                self._serve_file(path)
                return
            method = path[len("/api/") :] if path.startswith("/api/") else path
            body: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
            call = Call(path=path, method=method, body=body, headers=dict(self.headers.items()))
            with api.lock:
                api.calls.append(call)
            status, headers, answer = api.answer(call)
            data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

        def _serve_file(self, path: str) -> None:
            """A file posted in Slack, to the bot token only (as Slack serves ``url_private``)."""
            call = Call(path=path, method=path, body={}, headers=dict(self.headers.items()))
            with api.lock:
                api.calls.append(call)
            found = next((f for f in api.files.values() if urlsplit(f["url_private"]).path == path), None)
            if found is None or self.headers.get("Authorization") != f"Bearer {api.token}":
                status, data = (404 if found is None else 403), b"no"
            else:
                status, data = 200, found["content"]
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def fake_slack_api() -> Iterator[FakeSlackAPI]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    api = FakeSlackAPI(server=server)
    server.RequestHandlerClass = _handler(api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()

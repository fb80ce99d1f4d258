"""Uploading a file to a conversation in Slack's three steps, with a hook before the share.

``files_upload_v2`` does ``files.getUploadURLExternal``, the upload and
``files.completeUploadExternal`` in one call and hands back the file's id only at the end. A
file cannot carry message metadata, so the outbox sender needs the id *before* the last step:
it records it, and if that step times out (Slack often carries out a request whose answer comes
too late) a retry looks in the conversation's history for a message carrying that file instead
of uploading a second copy. Only the last step shares anything: a file whose upload was never
completed is not shown to anyone, so an earlier attempt that stopped short is simply replaced.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from slack_sdk import WebClient


class UploadFailed(Exception):
    """Slack's upload URL did not take the bytes (nothing was shared)."""


def share_file(
    client: WebClient,
    *,
    channel: str,
    content: bytes,
    filename: str,
    title: str,
    comment: str | None,
    before_share: Callable[[str], None],
) -> str:
    """Upload ``content`` and share it in ``channel``; returns the file id.

    ``before_share`` gets the id once the bytes are up and before the one step that shares
    them, so a caller can record it where a retry will find it.
    """
    ticket = client.files_getUploadURLExternal(filename=filename, length=len(content))
    file_id, url = str(ticket["file_id"]), str(ticket["upload_url"])
    _post_bytes(client, url, content)
    before_share(file_id)
    client.files_completeUploadExternal(
        files=[{"id": file_id, "title": title}], channel_id=channel, initial_comment=comment
    )
    return file_id


def _post_bytes(client: WebClient, url: str, content: bytes) -> None:
    """POST the bytes to Slack's upload URL with the client's timeout, TLS context and proxy."""
    if urlsplit(url).scheme not in ("https", "http"):
        raise UploadFailed(f"Slack gave an upload URL that is not HTTP: {url[:80]!r}")
    handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=client.ssl)]
    if client.proxy:
        handlers.append(urllib.request.ProxyHandler({"http": client.proxy, "https": client.proxy}))
    headers = {"Content-Type": "application/octet-stream"}
    request = urllib.request.Request(url, data=content, method="POST", headers=headers)  # noqa: S310 (checked above)
    with urllib.request.build_opener(*handlers).open(request, timeout=client.timeout) as response:
        if response.status != 200:
            raise UploadFailed(f"Slack's upload URL answered {response.status}")

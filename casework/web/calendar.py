"""The calendar feed route: ``GET /calendar/<token>.ics`` for the hosts' diaries.

The token is ``CASEWORK_CALENDAR_TOKEN``, compared in constant time; a wrong token, or no token
configured, is a plain 404, so the address gives nothing away. The feed carries no personal
data beyond each slot being "booked" or "free" (:mod:`casework.surgery_calendar`). The web
front door registers these routes in its app factory.
"""

from __future__ import annotations

import hmac

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from casework.settings import Settings
from casework.surgery_calendar import feed_bytes
from store.db import session_scope

PATH = "/calendar/{token}.ics"


def routes(settings: Settings, engine: Engine) -> list[Route]:
    """The feed's routes for a Starlette app (``Starlette(routes=[*routes(settings, engine)])``)."""
    secret = settings.calendar_token.get_secret_value()

    def calendar_feed(request: Request) -> Response:
        given = str(request.path_params.get("token", ""))
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return PlainTextResponse("Not Found", status_code=404)
        host = request.query_params.get("host")
        with session_scope(engine) as session:
            body = feed_bytes(
                session, settings=settings, host=host if host in ("commissioner", "deputy") else None
            )
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Disposition": 'inline; filename="surgeries.ics"',
            },
        )

    return [Route(PATH, calendar_feed, methods=["GET"])]

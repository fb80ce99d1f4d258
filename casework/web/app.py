"""The front door's ASGI app: routes, then the body limits around all of them."""

from __future__ import annotations

from collections.abc import Sequence

from slack_bolt import App
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from casework.settings import Settings
from casework.web import calendar, metrics, routes, slack
from casework.web.limits import ASGIApp, BodyLimits


def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"ok": False, "error": "not_found"}, status_code=404)


def build(
    settings: Settings,
    *,
    bolt: App | None = None,
    engine: Engine | None = None,
    routes_: Sequence[BaseRoute] = (),
) -> ASGIApp:
    """Every route (Slack when ``bolt`` is given, health, metrics, registered and ``routes_``)
    behind :class:`~casework.web.limits.BodyLimits`."""
    table: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"]), metrics.route(settings, engine)]
    if bolt is not None:
        table.append(slack.route(bolt, settings.slack_signing_secret.get_secret_value()))
    if engine is not None:
        table += calendar.routes(settings, engine)  # the hosts' surgery calendar feed
    table += routes.registered()
    table += list(routes_)
    inner = Starlette(routes=table, exception_handlers={404: not_found})
    return BodyLimits(
        inner,
        max_body=settings.http_max_body_bytes,
        read_timeout=settings.http_read_timeout_seconds,
        max_header=settings.http_max_header_bytes,
    )

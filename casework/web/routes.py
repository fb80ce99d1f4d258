"""Extra routes for the front door, registered by the module that serves them.

A feature that needs an HTTP endpoint calls ``add(Route("/calendar/{token}.ics", handler))``
when it is imported; :func:`casework.web.app.build` mounts everything registered here behind
the same limits as the Slack endpoint. Handlers that touch the store are plain functions
(Starlette runs sync endpoints in its thread pool, off the event loop).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

_REGISTERED: list[BaseRoute] = []


def add(route: BaseRoute) -> None:
    """Serve ``route`` from the front door (behind the same limits as every route)."""
    _REGISTERED.append(route)


def registered() -> list[BaseRoute]:
    return list(_REGISTERED)

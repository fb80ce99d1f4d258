"""The web front door: one ASGI app, on uvicorn, that every HTTP route goes through.

``/slack/events`` (bolt, through its Starlette adapter), ``/healthz`` and ``/metrics`` are built
in; anything else (calendar feeds, download links) is added with :func:`casework.web.routes.add`
or passed to :func:`casework.web.app.build` as ``routes``. The limits every request meets
(body size and read time, header size and read time, connections) are set in one place,
:class:`casework.web.server.Limits`, from the settings; docs/security.md lists them.
"""

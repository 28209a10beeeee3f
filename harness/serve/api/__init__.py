"""The HTTP endpoints, with Nango's paths (no prefix), headers, bodies and answers.

`routes()` lists them for the application. Each endpoint checks its whole request first (auth, headers,
body, names) and only then acts, so a bad request changes nothing.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from . import actions, connections, functions, records, syncs, webhooks


def routes() -> list[BaseRoute]:
    out: list[BaseRoute] = [Route("/health", functions.health, methods=["GET"])]
    for module in (actions, syncs, records, connections, functions, webhooks):
        out.extend(module.ROUTES)
    return out

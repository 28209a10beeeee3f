"""A GitHub-like provider on 127.0.0.1 for recording cassettes with vcrpy and other clients.

Serves what the example functions ask for: `GET /repos/<o>/<r>/issues` (pages of 5 with a `Link` header,
gzip-compressed when the client accepts it, as real providers do) and `POST /repos/<o>/<r>/issues`
(201 with the created issue). The `x-note` header carries non-ASCII text (UTF-8 bytes on the wire),
which providers do send.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from .server_base import FakeServer, Reply, Seen

NOTE = "café ☕"
ISSUES = 7
PER_PAGE = 5


def issue(n: int) -> dict[str, Any]:
    return {"id": 1000 + n, "number": n, "title": f"Issue {n}", "state": "open",
            "updated_at": f"2026-01-{n:02d}T10:00:00Z", "user": {"login": "octocat"}, "body": f"Body {n}"}


class Provider(FakeServer):
    def __init__(self) -> None:
        super().__init__(self._handle)

    def _handle(self, seen: Seen) -> Reply:
        if seen.path.endswith("/issues") and seen.method == "POST":
            sent = seen.json() or {}
            return self._reply(seen, 201, {"id": 2001, "number": 8, "title": sent.get("title"),
                                           "html_url": "https://github.com/octocat/hello-world/issues/8"})
        if seen.path.endswith("/issues"):
            page = int(seen.q("page") or 1)
            rows = [issue(n) for n in range(1, ISSUES + 1)][(page - 1) * PER_PAGE: page * PER_PAGE]
            headers = {}
            if page * PER_PAGE < ISSUES:
                headers["link"] = f'<{self.base_url}{seen.path}?per_page=5&state=all&page={page + 1}>; rel="next"'
            return self._reply(seen, 200, rows, headers)
        return self._reply(seen, 404, {"message": "Not Found"})

    def _reply(self, seen: Seen, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        raw = json.dumps(payload).encode()
        # http.server writes header values as latin-1: this puts the UTF-8 bytes of the text on the wire.
        note = NOTE.encode("utf-8").decode("latin-1")
        out = {"content-type": "application/json; charset=utf-8", "x-note": note, **(headers or {})}
        if "gzip" in seen.headers.get("accept-encoding", ""):
            raw = gzip.compress(raw, mtime=0)
            out["content-encoding"] = "gzip"
        return Reply(status=status, raw=raw, headers=out)

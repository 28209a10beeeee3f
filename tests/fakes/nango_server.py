"""A stand-in for Nango's API on 127.0.0.1: the connection endpoint, metadata writes and `/proxy`.

It answers as Nango does for what harness uses: `GET /connection/<id>?provider_config_key=` (with
`force_refresh=true` it mints a new token through `refresh`), `POST`/`PATCH /connections/metadata`, and
`/proxy/<endpoint>`, which strips the `Nango-Proxy-` prefix from headers, adds the connection's bearer
token and forwards to the connection's provider base URL (or `Base-Url-Override`). Calls need
`Authorization: Bearer <secret key>`.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from .server_base import FakeServer, Reply, Seen

SECRET = "nango-secret-key-0001"


class FakeNango(FakeServer):
    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        # (integration, connection id) -> Nango's connection object
        self.connections: dict[tuple[str, str], dict[str, Any]] = {}
        self.provider_urls: dict[tuple[str, str], str] = {}
        self.metadata_calls: list[tuple[str, Any]] = []
        self.refresh: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        super().__init__(self._handle_request)

    def add(self, integration: str, connection_id: str, *, provider: str, credentials: dict[str, Any],
            provider_url: str, connection_config: dict[str, Any] | None = None,
            metadata: dict[str, Any] | None = None) -> None:
        self.connections[(integration, connection_id)] = {
            "id": len(self.connections) + 1, "connection_id": connection_id, "provider_config_key": integration,
            "provider": provider, "connection_config": connection_config or {}, "metadata": metadata,
            "credentials": credentials, "errors": [], "end_user": None, "tags": {},
        }
        self.provider_urls[(integration, connection_id)] = provider_url

    def _handle_request(self, req: Seen) -> Reply:
        if req.headers.get("authorization") != f"Bearer {self.secret}":
            return Reply(401, {"error": {"code": "unknown_account", "message": "bad secret key"}})
        if req.path.startswith("/connection/") and req.method == "GET":
            key = (req.q("provider_config_key") or "", req.path.split("/", 2)[2])
            conn = self.connections.get(key)
            if conn is None:
                return Reply(404, {"error": {"code": "not_found", "message": "Connection not found"}})
            if req.q("force_refresh") == "true" and self.refresh is not None:
                conn["credentials"] = self.refresh(conn["credentials"])
            return Reply(200, conn)
        if req.path == "/connections/metadata" and req.method in ("POST", "PATCH"):
            body = req.json()
            conn = self.connections.get((body["provider_config_key"], body["connection_id"]))
            if conn is None:
                return Reply(404, {"error": {"code": "not_found"}})
            self.metadata_calls.append((req.method, body["metadata"]))
            conn["metadata"] = (body["metadata"] if req.method == "POST"
                                else {**(conn["metadata"] or {}), **body["metadata"]})
            return Reply(200, {"connection_id": body["connection_id"],
                               "provider_config_key": body["provider_config_key"]})
        if req.path.startswith("/proxy/"):
            return self._proxy(req)
        return Reply(404, {"error": {"code": "not_found"}})

    def _proxy(self, req: Seen) -> Reply:
        key = (req.headers.get("provider-config-key", ""), req.headers.get("connection-id", ""))
        conn = self.connections.get(key)
        if conn is None:
            return Reply(400, {"error": {"code": "unknown_connection"}})
        base = req.headers.get("base-url-override") or self.provider_urls[key]
        query = "&".join(f"{k}={v}" for k, values in req.query.items() for v in values)
        url = base.rstrip("/") + req.path[len("/proxy"):] + (f"?{query}" if query else "")
        headers = {k[len("nango-proxy-"):]: v for k, v in req.headers.items() if k.startswith("nango-proxy-")}
        if "content-type" in req.headers:
            headers["content-type"] = req.headers["content-type"]
        headers.setdefault("authorization", f"Bearer {conn['credentials'].get('access_token')}")
        forward = urllib.request.Request(url, data=req.body or None, headers=headers, method=req.method)
        try:
            with urllib.request.urlopen(forward, timeout=5) as answer:
                return Reply(answer.status, raw=answer.read(), headers={"content-type": "application/json"})
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, raw=exc.read(), headers={"content-type": "application/json"})

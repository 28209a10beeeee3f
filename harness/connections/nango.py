"""A Nango server as a connection source (the proxy transport is `harness.http.nango_proxy`).

With `NANGO_SECRET_KEY` (and `NANGO_HOST`, default https://api.nango.dev):
- the connection is `GET /connection/<id>?provider_config_key=<integration>` (credentials,
  connection_config, metadata), as `nango dryrun` fetches it;
- a token that is expired or answered 401 is renewed by asking Nango again with `force_refresh=true`
  (Nango holds the OAuth client and the refresh token; harness never calls the token URL itself);
- `--persist-metadata` sends the run's metadata writes in order: `set_metadata` as
  `POST /connections/metadata`, `update_metadata` as `PATCH /connections/metadata`;
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import ConfigError, NotFoundError
from ..http.network import tls_context
from ..providers.catalog import Provider
from .model import Connection
from .refresh import TokenRefreshError

DEFAULT_HOST = "https://api.nango.dev"


def settings(env: dict[str, str] | None = None, environment: str | None = None) -> tuple[str, str] | None:
    """(host, secret key) when Nango is configured: `NANGO_SECRET_KEY`, or `NANGO_SECRET_KEY_<ENV>` for the
    environment `-e ENV` names (as Nango's CLI reads it); the host from `NANGO_HOST` or `NANGO_HOSTPORT`."""
    env = dict(os.environ) if env is None else env
    name = f"NANGO_SECRET_KEY_{environment.upper().replace('-', '_')}" if environment else "NANGO_SECRET_KEY"
    key = env.get(name)
    if not key:
        return None
    return (env.get("NANGO_HOST") or env.get("NANGO_HOSTPORT") or DEFAULT_HOST).rstrip("/"), key


class NangoSource:
    kind = "nango"

    def __init__(self, host: str, secret_key: str, integration: str, connection_id: str,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.host = host.rstrip("/")
        self._key = secret_key
        self.integration = integration
        self.connection_id = connection_id
        self._transport = transport

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._key}", "Nango-Is-Dry-Run": "true", "accept": "application/json"}

    def _path(self) -> str:
        return f"/connection/{quote(self.connection_id, safe='')}"

    def _params(self, force: bool = False) -> dict[str, str]:
        params = {"provider_config_key": self.integration}
        if force:
            params["force_refresh"] = "true"
        return params

    def _check(self, response: httpx.Response, what: str) -> Any:
        where = f"Nango at {self.host}"
        if response.status_code == 404:
            raise NotFoundError(f"{what}: {where} has no connection {self.connection_id!r} for integration "
                                f"{self.integration!r}", hint="check the connection id and --integration")
        if response.status_code in (401, 403):
            raise ConfigError(f"{what}: {where} refused the secret key ({response.status_code})",
                              hint="check NANGO_SECRET_KEY and NANGO_HOST")
        if not response.is_success:
            raise ConfigError(f"{what}: {where} answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise ConfigError(f"{what}: {where} answered something that is not JSON") from None

    def fetch(self) -> Connection:
        try:
            with httpx.Client(base_url=self.host, transport=self._transport, timeout=30.0,
                              verify=tls_context()) as client:
                response = client.get(self._path(), params=self._params(), headers=self._headers())
        except httpx.HTTPError as exc:
            raise ConfigError(f"cannot reach Nango at {self.host}: {type(exc).__name__}",
                              hint="check NANGO_HOST") from None
        data = self._check(response, "fetching the connection")
        return self._connection(data)

    def _connection(self, data: Any) -> Connection:
        if not isinstance(data, dict) or not isinstance(data.get("credentials"), dict):
            raise ConfigError(f"Nango at {self.host} answered a connection without credentials")
        creds = dict(data["credentials"])
        kind = str(creds.get("type") or "NONE").upper()
        creds["type"] = kind
        return Connection(
            connection_id=str(data.get("connection_id") or self.connection_id),
            provider=str(data.get("provider") or self.integration),
            integration=str(data.get("provider_config_key") or self.integration),
            credentials=creds, connection_config=dict(data.get("connection_config") or {}),
            metadata=data.get("metadata"), source=f"nango:{self.host}", origin=self,
        )

    async def fresh_credentials(self, connection: Connection, provider: Provider, client: httpx.AsyncClient,
                                now: float, why: str) -> dict[str, Any]:
        # Nango's own API is reached over the real network, not the provider's transport.
        try:
            async with httpx.AsyncClient(base_url=self.host, timeout=30.0, verify=tls_context()) as nango:
                response = await nango.get(self._path(), params=self._params(force=True), headers=self._headers())
        except httpx.HTTPError as exc:
            raise TokenRefreshError(f"connection {self.connection_id!r}: refreshing through Nango failed: "
                                    f"{type(exc).__name__}") from None
        if not response.is_success:
            raise TokenRefreshError(f"connection {self.connection_id!r}: refreshing through Nango failed: "
                                    f"{response.status_code}")
        fetched = self._connection(response.json())
        if fetched.credentials == connection.credentials:
            raise TokenRefreshError(f"connection {self.connection_id!r}: Nango gave the same credentials again "
                                    f"({why})", hint="reconnect the connection in Nango")
        return fetched.credentials

    def save_credentials(self, connection: Connection) -> str | None:
        return None  # Nango stores the token it refreshed itself.

    def save_metadata(self, connection: Connection, writes: list[dict[str, Any]], final: Any) -> str:
        # This thread's TLS context (harness.http.network): a new one per client loaded the CA bundle, ~25 ms.
        with httpx.Client(base_url=self.host, transport=self._transport, timeout=30.0,
                          verify=tls_context()) as client:
            for write in writes:
                method = "POST" if write.get("op") == "set" else "PATCH"
                body = {"connection_id": self.connection_id, "provider_config_key": self.integration,
                        "metadata": write.get("value")}
                response = client.request(method, "/connections/metadata", json=body, headers=self._headers())
                self._check(response, f"{method} /connections/metadata")
        return f"Nango at {self.host}"

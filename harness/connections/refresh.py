"""OAuth2 token refresh and client-credentials grants, as Nango's credential refresh does them.

- When a token counts as expired: `expires_at` within the provider's `token_expiration_buffer` (default
  Nango's 15 minutes) of now. OAUTH2 needs a `refresh_token` to be refreshed; OAUTH2_CC fetches a token
  with its client id and secret whenever it has none or it has expired.
- The client id and secret come, first found, from the credentials (`client_id`/`client_secret`), their
  `config_override`, then the connection_config (`oauth_client_id`/`oauth_client_secret`).
- The grant is a form POST to the provider's `token_url` (templated with `connectionConfig`), client
  credentials in the body (`client_secret_post`).

Nothing here logs or returns a token in an error message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from ..errors import HarnessError
from ..providers.catalog import Provider
from ..providers.templates import render_base_url
from .model import Connection

REFRESH_MARGIN_S = 15 * 60.0


class TokenRefreshError(HarnessError):
    """The provider (or Nango) would not give a new token."""


def expires_at(credentials: dict[str, Any]) -> float | None:
    """`expires_at` as epoch seconds (ISO string, datetime, or epoch seconds/milliseconds)."""
    value = credentials.get("expires_at")
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1000 if value > 1e11 else float(value)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return None


def client_pair(connection: Connection) -> tuple[str | None, str | None]:
    creds, config = connection.credentials, connection.connection_config
    raw = creds.get("config_override")
    override: dict[str, Any] = raw if isinstance(raw, dict) else {}
    cid = creds.get("client_id") or override.get("client_id") or config.get("oauth_client_id")
    secret = creds.get("client_secret") or override.get("client_secret") or config.get("oauth_client_secret")
    return (str(cid) if cid else None), (str(secret) if secret else None)


def can_refresh(connection: Connection) -> bool:
    kind = connection.auth_type
    if kind == "OAUTH2":
        return bool(connection.credentials.get("refresh_token"))
    if kind == "OAUTH2_CC":
        return all(client_pair(connection))
    return False


def needs_refresh(connection: Connection, provider: Provider, now: float) -> bool:
    """Expired, or expiring within the margin (an OAUTH2_CC connection without a token too)."""
    if not can_refresh(connection):
        return False
    token_key = "token" if connection.auth_type == "OAUTH2_CC" else "access_token"
    if not connection.credentials.get(token_key):
        return True
    when = expires_at(connection.credentials)
    if when is None:
        return False
    margin = provider.token_expiration_buffer if provider.token_expiration_buffer is not None else REFRESH_MARGIN_S
    return when - now <= margin


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def exchange(connection: Connection, provider: Provider, client: httpx.AsyncClient, now: float,
                   why: str) -> dict[str, Any]:
    """New credentials for the connection from the provider's token URL (the old ones are not changed)."""
    who = f"connection {connection.connection_id!r}"
    if not provider.token_url:
        raise TokenRefreshError(f"{who}: cannot refresh its token ({why}): provider {provider.name!r} has no "
                                "token_url", hint=f"set token_url in [tool.harness.providers.{provider.name}]")
    url = render_base_url(provider.token_url, connection.template_scope())
    if url is None:
        raise TokenRefreshError(f"{who}: cannot fill the token URL {provider.token_url!r}",
                                hint="add the missing connection_config value")
    cid, secret = client_pair(connection)
    if not cid or not secret:
        raise TokenRefreshError(f"{who}: cannot refresh its token ({why}): no client id and secret",
                                hint="set credentials.client_id/client_secret or connection_config."
                                     "oauth_client_id/oauth_client_secret")
    creds = dict(connection.credentials)
    if connection.auth_type == "OAUTH2_CC":
        form = {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}
        if isinstance(creds.get("scope"), str):
            form["scope"] = creds["scope"]
    else:
        form = {"grant_type": "refresh_token", "refresh_token": str(creds.get("refresh_token") or ""),
                "client_id": cid, "client_secret": secret}
    try:
        response = await client.post(url, data=form, headers={"accept": "application/json"})
    except httpx.HTTPError as exc:
        raise TokenRefreshError(f"{who}: token refresh failed: POST {url}: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not response.is_success or not isinstance(token, str) or not token:
        detail = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None
        raise TokenRefreshError(f"{who}: token refresh failed: POST {url} answered {response.status_code}"
                                + (f" ({detail})" if detail else ""),
                                hint="reconnect, or put fresh credentials in the connection")
    assert isinstance(body, dict)
    if connection.auth_type == "OAUTH2_CC":
        creds["token"] = token
    else:
        creds["access_token"] = token
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            creds["refresh_token"] = body["refresh_token"]
    expires_in = body.get("expires_in")
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
        creds["expires_at"] = _iso(now + float(expires_in))
    else:
        creds.pop("expires_at", None)
    return creds

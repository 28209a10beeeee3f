"""Webhooks from harness to the user's app, in Nango's shapes and signed as Nango signs them.

Nango serializes the body once with sorted keys and no whitespace, sends exactly those bytes, and signs them:
`X-Nango-Hmac-Sha256 = hex(HMAC-SHA256(signing key, body))` and the legacy `X-Nango-Signature =
hex(SHA256(key + body))`. `verify()` is the app-side check, in constant time, over the raw body bytes.
Delivery follows Nango's: 20 s timeout, 2 retries (waits 3 s then 6 s) on network errors and 5xx, none on 4xx.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import Clock
    from .result import RunResult

SIGNATURE_HEADER = "X-Nango-Hmac-Sha256"
LEGACY_SIGNATURE_HEADER = "X-Nango-Signature"
TIMEOUT_S = 20.0
RETRY_WAITS_S = (3.0, 6.0)


def serialize(payload: Any) -> bytes:
    """The exact bytes Nango sends: keys sorted at every level, compact, UTF-8 without escapes."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _raw(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign(body: bytes | str, key: str) -> str:
    return hmac.new(key.encode("utf-8"), _raw(body), hashlib.sha256).hexdigest()


def legacy_sign(body: bytes | str, key: str) -> str:
    return hashlib.sha256(key.encode("utf-8") + _raw(body)).hexdigest()


def verify(body: bytes | str, signature: str | bytes | None, key: str) -> bool:
    """True when `signature` (the `X-Nango-Hmac-Sha256` header) signs these raw body bytes with `key`.

    The header may come as `str` or as raw `bytes` (ASGI frameworks hand headers over as bytes). Anything
    that cannot be a hex digest (non-ASCII, wrong type) is simply not a valid signature: False, never an
    exception an attacker could trigger with a crafted header.
    """
    if not signature or not key or not isinstance(key, str):
        return False
    if isinstance(signature, str):
        if not signature.isascii():
            return False
        given = signature.encode("ascii")
    elif isinstance(signature, (bytes, bytearray, memoryview)):
        given = bytes(signature)
        if not given.isascii():
            return False
    else:
        return False
    return hmac.compare_digest(sign(body, key).encode("ascii"), given.strip().lower())


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sync_payloads(result: RunResult, *, provider_config_key: str, started_at: float, initial: bool,
                  always: bool = False) -> list[dict[str, Any]]:
    """Nango's sync webhooks for a run: one per model on success (skipped when nothing changed unless
    `always`), a single failure webhook otherwise."""
    base: dict[str, Any] = {"from": "nango", "type": "sync", "connectionId": result.connection_id,
                            "providerConfigKey": provider_config_key, "syncName": result.function,
                            "syncVariant": "base"}
    sync_type = "WEBHOOK" if result.function_type == "webhook" else ("INITIAL" if initial else "INCREMENTAL")
    if not result.ok:
        error = result.error
        return [{**base, "model": ",".join(result.models), "syncType": sync_type, "success": False,
                 "error": {"type": "script_error", "description": error.message if error else "failed"},
                 "startedAt": _iso(started_at), "failedAt": _iso(started_at + result.timings.get("total", 0) / 1000)}]
    out = []
    for model, counts in result.counts().items():
        changed = {k: counts[k] for k in ("added", "updated", "deleted")}
        if not always and not any(changed.values()):
            continue
        payload = {**base, "model": model, "syncType": sync_type, "success": True,
                   "modifiedAfter": _iso(started_at), "queryTimeStamp": _iso(started_at),
                   "responseResults": changed}
        if result.initial_checkpoint is not None or result.checkpoints:
            payload["checkpoints"] = {"from": result.initial_checkpoint, "to": result.final_checkpoint}
        out.append(payload)
    return out


def auth_payload(*, connection_id: str, provider_config_key: str, provider: str, auth_mode: str,
                 operation: str = "creation", success: bool = True, environment: str = "dev") -> dict[str, Any]:
    return {"from": "nango", "type": "auth", "connectionId": connection_id, "authMode": auth_mode,
            "providerConfigKey": provider_config_key, "provider": provider, "environment": environment,
            "operation": operation, "success": success}


def async_action_payload(*, connection_id: str, provider_config_key: str, action_id: str) -> dict[str, Any]:
    return {"from": "nango", "type": "async_action", "connectionId": connection_id,
            "providerConfigKey": provider_config_key,
            "payload": {"id": action_id, "statusUrl": f"/action/{action_id}"}}


@dataclass
class Delivery:
    url: str
    status: int | None
    attempts: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def deliver(url: str, payload: Any, key: str, clock: Clock) -> Delivery:
    """POST one signed webhook with Nango's retry rule."""
    import httpx

    from .http.network import tls_context

    body = serialize(payload)
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(body, key),
               LEGACY_SIGNATURE_HEADER: legacy_sign(body, key), "user-agent": "harness-webhooks"}
    attempts = 0
    error: str | None = None
    status: int | None = None
    # This thread's TLS context (harness.http.network): a new one per delivery loaded the CA bundle, ~25 ms.
    async with httpx.AsyncClient(timeout=TIMEOUT_S, verify=tls_context()) as client:
        for wait in (*RETRY_WAITS_S, None):
            attempts += 1
            try:
                response = await client.post(url, content=body, headers=headers)
                status, error = response.status_code, None
                if status < 500:
                    break
            except httpx.TransportError as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            if wait is None:
                break
            await clock.sleep(wait)
    return Delivery(url, status, attempts, error)

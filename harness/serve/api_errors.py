"""Nango's error answers: `{"error": {"code", "message", "errors"?, "payload"?}}` with its status codes.

Endpoints raise `ApiError`; the application turns it into the JSON answer. Every error names what was
wrong (the unknown connection, the missing field), so an app's failing test says why. Nothing is changed
before an `ApiError` is raised: endpoints check everything first, then act.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, errors: list[dict[str, Any]] | None = None,
                 payload: Any = None, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.payload = payload
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            error["errors"] = self.errors
        if self.payload is not None:
            error["payload"] = self.payload
        error.update(self.extra)
        return {"error": error}


# Nango's three authentication failures (packages/server/lib/middleware/access.middleware.ts).
def missing_auth() -> ApiError:
    return ApiError(401, "missing_auth_header", "Authentication failed. The request is missing the "
                    "Authorization header (send `Authorization: Bearer <secret key>`).")


def malformed_auth() -> ApiError:
    return ApiError(401, "malformed_auth_header", "Authentication failed. The Authorization header is "
                    "malformed (expected `Bearer <secret key>`).")


def unknown_account() -> ApiError:
    return ApiError(401, "unknown_account", "Authentication failed. The secret key does not match the one "
                    "`harness serve` was started with (--secret-key or $HARNESS_SERVE_SECRET_KEY).")


def unknown_integration(key: str, known: list[str]) -> ApiError:
    hint = f"known integrations: {', '.join(known)}" if known else "the project has no functions"
    return ApiError(404, "unknown_provider_config", f"Unknown integration (provider config key) {key!r}; {hint}.")


def unknown_connection(connection_id: str, integration: str, known: list[str]) -> ApiError:
    hint = f"connections of {integration!r}: {', '.join(known)}" if known else f"{integration!r} has no connections"
    return ApiError(404, "unknown_connection", f"Unknown connection {connection_id!r} for integration "
                    f"{integration!r}; {hint}.")


def unknown_function(kind: str, name: str, integration: str, known: list[str]) -> ApiError:
    hint = f"{kind}s of {integration!r}: {', '.join(known)}" if known else f"{integration!r} has no {kind}s"
    code = "unknown_sync" if kind == "sync" else "not_found"
    return ApiError(404, code, f"Unknown {kind} {name!r} in integration {integration!r}; {hint}.")


def unknown_model(model: str, integration: str, known: list[str]) -> ApiError:
    hint = f"models of {integration!r}: {', '.join(known)}" if known else f"{integration!r} has no sync models"
    return ApiError(404, "unknown_model", f"Unknown model {model!r} in integration {integration!r}; {hint}.")


def missing(where: str, name: str) -> ApiError:
    code = "missing_provider_config_key" if name.lower().replace("-", "_") == "provider_config_key" else (
        "missing_connection_id" if name.lower().replace("-", "_") == "connection_id" else f"invalid_{where}")
    return ApiError(400, code, f"Missing {name} ({where}).")

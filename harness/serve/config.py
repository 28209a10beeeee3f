"""The options of one `harness serve` process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

SECRET_ENV = "HARNESS_SERVE_SECRET_KEY"
SIGNING_ENV = "NANGO_WEBHOOK_SIGNING_KEY"
DEFAULT_PORT = 3003
DEFAULT_GRACE_S = 10.0


@dataclass
class ServeConfig:
    secret_key: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    live: bool = False
    allow_writes: bool = False
    webhook_url: str | None = None
    # The key webhooks to the app are signed with (default: the secret key, as @nangohq/node falls back to).
    signing_key: str | None = None
    schedule: bool = True
    # The records database (and its `.state.json`); None: a fresh one in a temporary folder (replay) or
    # `.harness/serve.sqlite` (live).
    store: Path | None = None
    otel_console: bool = False
    grace_s: float = DEFAULT_GRACE_S

    @property
    def webhook_key(self) -> str:
        return self.signing_key or self.secret_key


def signing_key_from_env() -> str | None:
    return os.environ.get(SIGNING_ENV) or None


def check_secret_key(key: str) -> str:
    if not key or not key.strip() or any(c.isspace() for c in key):
        raise ConfigError("the secret key must be a non-empty string without spaces",
                          hint=f"pass --secret-key KEY or set ${SECRET_ENV}")
    return key

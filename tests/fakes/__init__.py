"""Fake servers the tests start on 127.0.0.1 (GitHub, a generic provider, Nango's API, an app receiving hooks).

`POLL_S` is how often a fake's `serve_forever` loop looks at its stop flag: `shutdown()` waits up to that
long, and the suite starts and stops a few hundred fakes (at the standard library's 0.5 s, that alone was 8 s).
`http_client()` is the tests' own httpx client.
"""

from __future__ import annotations

from typing import Any

import httpx

from harness.http.network import tls_context

POLL_S = 0.005


def http_client(**options: Any) -> httpx.Client:
    """An httpx client for the fakes and `harness serve`, on this thread's TLS context (making one per client
    loads the CA bundle, ~25 ms; see harness/http/network.py)."""
    return httpx.Client(verify=tls_context(), **options)

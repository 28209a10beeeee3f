"""The network itself, at the bottom of every stack: httpx's transport, on a TLS context made once per thread.

Making a TLS client context loads the CA bundle (certifi's, or `$SSL_CERT_FILE` / `$SSL_CERT_DIR`, read as
httpx reads them), about 25 ms, and httpx makes one for every transport, so every live run paid it again;
`harness serve` (a run per trigger) and the test suite (a few hundred live runs) paid it many times. The
context is made on a thread's first live transport and kept for that thread, not shared between threads:
httpcore sets its ALPN protocols on the context for each new connection. Changing those variables takes effect
in the next process.
"""

from __future__ import annotations

import ssl
import threading

import httpx

_PER_THREAD = threading.local()


def tls_context() -> ssl.SSLContext:
    """This thread's TLS client context (made on first use; httpx's defaults)."""
    context: ssl.SSLContext | None = getattr(_PER_THREAD, "context", None)
    if context is None:
        context = _PER_THREAD.context = httpx.create_ssl_context()
    return context


def network_transport() -> httpx.AsyncHTTPTransport:
    """A new connection pool to the network, on this thread's TLS context (its CA bundle loaded once)."""
    return httpx.AsyncHTTPTransport(verify=tls_context())

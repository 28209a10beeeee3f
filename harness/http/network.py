"""The network itself, at the bottom of every stack: httpx's transport, sharing one TLS context per process.

Making a TLS client context loads the CA bundle (certifi's, or `$SSL_CERT_FILE` / `$SSL_CERT_DIR`, read as
httpx reads them), about 25 ms, and httpx makes one for every transport, so every live run paid it again;
`harness serve` (a run per trigger) and the test suite (a few hundred live runs) paid it many times. The
context is made on the first live request's transport and shared after that: changing those variables
takes effect in the next process.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's TLS client context (made once; httpx's defaults)."""
    return httpx.create_ssl_context()


def network_transport() -> httpx.AsyncHTTPTransport:
    """A new connection pool to the network; its TLS context (CA bundle loaded) is the process's one."""
    return httpx.AsyncHTTPTransport(verify=tls_context())

"""Fault injection: a transport that answers chosen requests with a failure instead of passing them down.

It sits above the recorder and the replayer, so an injected fault never reaches a cassette and never
consumes a recorded interaction: after a 503 the retried request gets the response the recording holds.
Faults are written `KIND[xTIMES][@WHERE]`:

- KIND: an HTTP status (`429`, `500`, `503`...), `timeout` (httpx.ReadTimeout) or `reset` (connection reset);
  `429` carries `Retry-After: 1` unless `retry-after=N` is given (`429:retry-after=30@2`);
- TIMES: how many times it fires (default 1);
- WHERE: `N` for the Nth request of the run (1-based), or a path glob (`/repos/*/issues`); default: the first
  request.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

import httpx

from ..errors import UsageError

_FAULT = re.compile(r"^(?P<kind>\d{3}|timeout|reset)(?::retry-after=(?P<after>[\d.]+))?(?:x(?P<times>\d+))?"
                    r"(?:@(?P<where>.+))?$")


@dataclass
class Fault:
    kind: str
    at: int | None = None
    path: str | None = None
    times: int = 1
    retry_after: float | None = None
    fired: int = field(default=0, compare=False)

    def spec(self) -> str:
        text = self.kind
        if self.retry_after is not None:
            text += f":retry-after={self.retry_after:g}"
        if self.times != 1:
            text += f"x{self.times}"
        if self.at is not None:
            text += f"@{self.at}"
        elif self.path is not None:
            text += f"@{self.path}"
        return text


def parse_fault(text: str) -> Fault:
    m = _FAULT.match(text.strip())
    if not m:
        raise UsageError(f"cannot read fault {text!r}",
                         hint="write e.g. 429@3, 503x2@1, timeout@/repos/*/issues, 429:retry-after=5@2, reset@2")
    kind = m.group("kind")
    if kind.isdigit() and not 400 <= int(kind) <= 599:
        raise UsageError(f"fault {text!r}: status {kind} is not an error status (400-599)")
    where = m.group("where")
    at = int(where) if where and where.isdigit() else None
    if where and at is None and not where.startswith("/"):
        raise UsageError(f"fault {text!r}: {where!r} is neither a request number nor a path starting with /")
    if at == 0:
        raise UsageError(f"fault {text!r}: requests are numbered from 1", hint=f"write {kind}@1 for the first request")
    if m.group("times") is not None and int(m.group("times")) == 0:
        raise UsageError(f"fault {text!r}: x0 would never fire", hint="write x1 or more, or drop the fault")
    after = float(m.group("after")) if m.group("after") else (1.0 if kind == "429" else None)
    if where is None:
        at = 1
    return Fault(kind=kind, at=at, path=where if at is None else None, times=int(m.group("times") or 1),
                 retry_after=after)


class FaultTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, faults: list[Fault]) -> None:
        self.inner = inner
        self.faults = faults
        self.count = 0
        self.injected: list[str] = []

    def _pick(self, request: httpx.Request) -> Fault | None:
        for fault in self.faults:
            if fault.fired >= fault.times:
                continue
            if fault.at is not None:
                # `@N` with xTIMES fires on N, N+1, ... so a retry loop meets it TIMES times in a row.
                if fault.at <= self.count < fault.at + fault.times:
                    return fault
            elif fault.path is not None and fnmatch.fnmatchcase(request.url.path, fault.path):
                return fault
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        fault = self._pick(request)
        if fault is None:
            return await self.inner.handle_async_request(request)
        fault.fired += 1
        self.injected.append(f"{fault.spec()} -> request #{self.count} {request.method} {request.url.path}")
        if fault.kind == "timeout":
            raise httpx.ReadTimeout("injected timeout", request=request)
        if fault.kind == "reset":
            raise httpx.ReadError("injected connection reset", request=request)
        headers = {"content-type": "application/json"}
        if fault.retry_after is not None:
            headers["retry-after"] = f"{fault.retry_after:g}"
        return httpx.Response(int(fault.kind), headers=headers, request=request,
                              content=b'{"message": "injected fault"}')

    async def aclose(self) -> None:
        await self.inner.aclose()

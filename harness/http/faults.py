"""Fault injection: a transport that answers chosen requests with a failure instead of passing them down.

It sits above the recorder and the replayer, so an injected fault never reaches a cassette and never
consumes a recorded interaction: after a 503 the retried request gets the response the recording holds.
Faults are written `KIND[xTIMES][@WHERE]`:

- KIND: an HTTP status (`429`, `500`, `503`...), `timeout` (httpx.ReadTimeout) or `reset` (connection reset);
  `429` carries `Retry-After: 1` unless `retry-after=N` is given (`429:retry-after=30@2`);
- TIMES: how many times it fires (default 1);
- WHERE: `N` for the Nth request of the run (1-based), or a path glob (`/repos/*/issues`); default: the first
  request.

A fault that never fired (its path was never requested, its N lies beyond the run's requests) means the
scenario does not test what it says: `unfired()` lists them after the run, `unfired_issues()` turns them into
warnings for the result, and `unfired_error()` into the error a strict run (`--strict`, CI) fails with.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

import httpx

from ..errors import EXIT_USAGE, UsageError
from ..result import Issue, RunError

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


@dataclass(frozen=True)
class Unfired:
    """A fault that fired fewer times than asked (usually never), and why, in the run's terms."""

    fault: Fault
    fired: int
    requests: int  # how many requests the run made
    paths: tuple[str, ...]  # some of the paths it requested (for the message)

    @property
    def message(self) -> str:
        f = self.fault
        times = "never fired" if self.fired == 0 else f"fired {self.fired} of {f.times} times"
        if f.at is not None:
            last = f.at + f.times - 1
            why = (f"the run made {self.requests} request(s), so request #{f.at if self.fired == 0 else last} "
                   "never came")
        else:
            seen = ", ".join(self.paths[:3]) + (", ..." if len(self.paths) > 3 else "")
            why = (f"no request matched {f.path}" if self.fired == 0 else f"only {self.fired} request(s) matched "
                   f"{f.path}") + (f" (requested: {seen})" if seen else " (the run made no request)")
        return f"fault {f.spec()} {times}: {why}; the scenario does not test what it says"


class FaultTransport(httpx.AsyncBaseTransport):
    MAX_PATHS = 20  # distinct paths kept for messages

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: list[Fault]) -> None:
        self.inner = inner
        self.faults = faults
        self.count = 0
        self.injected: list[str] = []
        self.paths: list[str] = []

    def unfired(self) -> list[Unfired]:
        """Faults that fired fewer times than their TIMES (path never requested, N beyond the run)."""
        return [Unfired(f, f.fired, self.count, tuple(self.paths)) for f in self.faults if f.fired < f.times]

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
        path = request.url.path
        if len(self.paths) < self.MAX_PATHS and path not in self.paths:
            self.paths.append(path)
        fault = self._pick(request)
        if fault is None:
            return await self.inner.handle_async_request(request)
        fault.fired += 1
        self.injected.append(f"{fault.spec()} -> request #{self.count} {request.method} {request.url.path}")
        # `harness_fault` lets the observing transport above mark the exchange as injected.
        if fault.kind in ("timeout", "reset"):
            error: httpx.TransportError = (
                httpx.ReadTimeout("injected timeout", request=request) if fault.kind == "timeout"
                else httpx.ReadError("injected connection reset", request=request))
            error.harness_fault = fault.spec()  # type: ignore[attr-defined]
            raise error
        headers = {"content-type": "application/json"}
        if fault.retry_after is not None:
            headers["retry-after"] = f"{fault.retry_after:g}"
        return httpx.Response(int(fault.kind), headers=headers, request=request,
                              content=b'{"message": "injected fault"}', extensions={"harness_fault": fault.spec()})

    async def aclose(self) -> None:
        await self.inner.aclose()


def _fault_transports(transport: httpx.AsyncBaseTransport | None) -> list[FaultTransport]:
    """The FaultTransports in a stack (following `.inner`), outermost first."""
    found: list[FaultTransport] = []
    seen: set[int] = set()
    while transport is not None and id(transport) not in seen:
        seen.add(id(transport))
        if isinstance(transport, FaultTransport):
            found.append(transport)
        transport = getattr(transport, "inner", None)
    return found


def unfired_issues(transport: httpx.AsyncBaseTransport | None) -> list[Issue]:
    """One warning per fault of the stack that never fired (or fired fewer times than asked), for
    `RunResult.issues`. Pure: call it after the run with the stack's top (or the FaultTransport)."""
    return [Issue("fault", u.message, severity="warning")
            for t in _fault_transports(transport) for u in t.unfired()]


def unfired_error(transport: httpx.AsyncBaseTransport | None) -> RunError | None:
    """The error a strict run (`--strict`, CI) fails with when a fault never fired; None otherwise."""
    unfired = [u for t in _fault_transports(transport) for u in t.unfired()]
    if not unfired:
        return None
    more = f" (and {len(unfired) - 1} more)" if len(unfired) > 1 else ""
    return RunError("unfired_faults", unfired[0].message + more,
                    payload={"unfired": [{"fault": u.fault.spec(), "fired": u.fired, "times": u.fault.times,
                                          "requests": u.requests} for u in unfired]},
                    exit_code=EXIT_USAGE)

"""The one place a transport stack is assembled, and the small interface the runner talks to.

Bottom to top, each layer one seam:

- the bottom: the provider (`live.LiveTransport`, which injects credentials and refreshes tokens), Nango's
  proxy (`nango_proxy`), a fake (`redirect`, given as the network under either), a cassette (`replay`), or
  the closest recorded answer (`loose`, for fuzzing);
- the write guard (`guard`), right above a live bottom unless `--allow-writes`;
- the recorder (`recording`), in record mode, above the credentials' injection so it never sees them;
- new episodes (`episodes`): answers what the cassette knows, sends the rest to the recorder;
- fault injection (`faults`), above everything that keeps state, so a fault consumes no recorded answer;
- the observer (`observe`) on top: one `Exchange` per request for the run's result.

The runner sees only `HttpStack`: the top transport, the clock waits go through, the exchanges, and
`report()` (replay misses, unplayed interactions, faults) after the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from ..cassettes.format import Cassette, Interaction
from ..clock import Clock, RealClock
from ..connections.model import Connection
from ..errors import ReplayMissError, UsageError
from ..providers.catalog import Provider
from ..result import Exchange, Issue, RunError
from ..secrets.scrubber import Scrubber
from .faults import Fault, FaultTransport, unfired_error, unfired_issues
from .observe import ObservingTransport

if TYPE_CHECKING:
    from .recording import RecordingTransport
    from .replay import ReplayTransport

MODES = ("live", "record", "replay", "loose")


@dataclass
class LiveSpec:
    """What a live bottom needs: whose credentials, which provider, and how to reach it."""

    connection: Connection
    provider: Provider
    base_url: str
    network: httpx.AsyncBaseTransport | None = None  # below everything: a fake's transport in tests
    nango_proxy: tuple[str, str] | None = None  # (host, secret key): send the calls through Nango's /proxy
    allow_writes: bool = False


@dataclass
class StackReport:
    """What the stateful layers observed, read once after the run."""

    misses: list[ReplayMissError] = field(default_factory=list)
    unplayed: list[dict[str, Any]] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    # Faults that never fired (a path never requested, an N beyond the run): warnings, and the strict error.
    unfired: list[Issue] = field(default_factory=list)
    unfired_error: RunError | None = None


class _Relay:
    """Calls the stack's current `on_exchange` hook. The observer holds this rather than a bound method of the
    stack: that would make the stack and its observer a reference cycle, which keeps the whole stack (the
    cassette, its index, every exchange) alive after the run until the collector's next full pass, and makes
    that pass free it all (70 ms at 10,000 requests) instead of reference counting at the run's end."""

    __slots__ = ("hook",)

    def __init__(self) -> None:
        self.hook: Callable[[], None] | None = None

    def __call__(self) -> None:
        if self.hook is not None:
            self.hook()


class HttpStack:
    """The transports under the function's client, topped by the observer."""

    def __init__(self, transport: httpx.AsyncBaseTransport, source: str, scrubber: Scrubber,
                 clock: Clock | None = None, *, recorder: RecordingTransport | None = None,
                 replayer: ReplayTransport | None = None, faults: FaultTransport | None = None) -> None:
        self.source = source  # live | replay
        self.scrubber = scrubber
        self.clock = clock or RealClock()
        self._recorder = recorder
        self._replayer = replayer
        self._faults = faults
        self.exchanges: list[Exchange] = []
        self._relay = _Relay()
        self.transport: httpx.AsyncBaseTransport = ObservingTransport(transport, scrubber, source, self.exchanges,
                                                                      self._relay)

    @property
    def on_exchange(self) -> Callable[[], None] | None:
        """Called after each exchange (the CLI's progress line)."""
        return self._relay.hook

    @on_exchange.setter
    def on_exchange(self, hook: Callable[[], None] | None) -> None:
        self._relay.hook = hook

    @property
    def records(self) -> bool:
        return self._recorder is not None

    def recorded(self) -> list[Interaction]:
        """The scrubbed exchanges the recorder kept (empty when the stack does not record)."""
        return list(self._recorder.interactions) if self._recorder is not None else []

    def report(self) -> StackReport:
        out = StackReport()
        if self._replayer is not None:
            out.misses = list(self._replayer.misses)
            out.unplayed = self._replayer.index.unplayed()
        if self._faults is not None:
            out.injected = list(self._faults.injected)
            out.faults = list(self._faults.faults)
            out.unfired = unfired_issues(self._faults)
            out.unfired_error = unfired_error(self._faults)
        return out


def _live_bottom(spec: LiveSpec, clock: Clock, scrubber: Scrubber) -> httpx.AsyncBaseTransport:
    # Each bottom is imported when a stack needs it: a replay loads none of the live machinery.
    from .guard import WriteGuardTransport
    from .live import LiveTransport
    from .nango_proxy import NangoProxyTransport

    bottom: httpx.AsyncBaseTransport
    if spec.nango_proxy is not None:
        host, key = spec.nango_proxy
        bottom = NangoProxyTransport(host, key, spec.connection, spec.base_url, inner=spec.network)
    else:
        bottom = LiveTransport(spec.connection, spec.provider, inner=spec.network, clock=clock,
                               on_secret=scrubber.add_secret)
    return bottom if spec.allow_writes else WriteGuardTransport(bottom)


def build_stack(mode: str, scrubber: Scrubber, clock: Clock, *, cassette: Cassette | None = None,
                live: LiveSpec | None = None, episodes: bool = False, faults: list[Fault] | None = None,
                release_played: bool = False) -> HttpStack:
    """The stack for `mode`: `replay` or `loose` answer from `cassette`; `live` and `record` call through
    `live` (recording in `record`, and replaying what `cassette` knows first when `episodes`).
    `release_played`: a `replay` drops each interaction from `cassette` once it is played (the caller owns
    `cassette` and reads no played interaction after the run)."""
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}", hint="use live, replay or record")
    recorder: RecordingTransport | None = None
    replayer: ReplayTransport | None = None
    transport: httpx.AsyncBaseTransport
    if mode in ("replay", "loose"):
        if cassette is None:
            raise UsageError(f"a {mode} stack needs a cassette")
        if mode == "loose":
            from .loose import LooseReplayTransport

            transport = LooseReplayTransport(cassette, scrubber)
        else:
            from .replay import ReplayTransport

            transport = replayer = ReplayTransport(cassette, scrubber, release_played=release_played)
        source = "replay"
    else:
        if live is None:
            raise UsageError(f"a {mode} stack needs a connection to call")
        transport = _live_bottom(live, clock, scrubber)
        if mode == "record":
            from .recording import RecordingTransport

            transport = recorder = RecordingTransport(transport, scrubber)
            if episodes:
                if cassette is None:
                    raise UsageError("new episodes need the cassette to extend")
                from .episodes import NewEpisodesTransport
                from .replay import ReplayTransport

                transport = NewEpisodesTransport(ReplayTransport(cassette, scrubber), recorder)
        source = "live"
    injector = FaultTransport(transport, faults) if faults else None
    return HttpStack(injector or transport, source, scrubber, clock, recorder=recorder, replayer=replayer,
                     faults=injector)

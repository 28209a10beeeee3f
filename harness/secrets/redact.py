"""Known secrets turned into placeholders on every output surface.

- `redact_result(result, secrets)`: a run's result (output, error and its payload, logs, records,
  checkpoints, metadata, requests, issues), called by the pipeline at the end of every run;
- `RedactingStore(inner, secrets)`: records reach the store (`.harness/records.sqlite`) redacted;
- the CLI: `redaction_scope()` collects the scrubbers of one command, and `RedactingStream` redacts
  everything the command prints (stdout, stderr, `--json`, error lines), line by line.

`--show-secrets` (`redaction_scope(show=True)`) lifts the output redaction for one local run; the store and
every file written stay redacted whatever it says.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from ..records.lines import encode_line

if TYPE_CHECKING:
    from ..records.store import RecordStore, SaveOutcome
    from ..result import RunResult
    from .scrubber import Scrubber



@dataclass
class _Scope:
    show: bool = False
    # Every secret any scrubber of the command came to know, in one matcher (one pass per printed line,
    # however many runs or recordings the command went through).
    known: Scrubber | None = None


_SCOPE: ContextVar[_Scope | None] = ContextVar("harness_redaction_scope", default=None)


@contextlib.contextmanager
def redaction_scope(*, show: bool = False) -> Iterator[None]:
    """Collect every scrubber made inside (one CLI command) so what is printed can be redacted."""
    token = _SCOPE.set(_Scope(show=show))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def remember(name: str, value: str) -> None:
    """Called by every scrubber for every secret it learns: what the command prints will lose it."""
    scope = _SCOPE.get()
    if scope is None:
        return
    if scope.known is None:
        from .scrubber import Scrubber

        token = _SCOPE.set(None)  # the collector itself remembers nothing
        try:
            scope.known = Scrubber()
        finally:
            _SCOPE.reset(token)
    scope.known.add_secret(name, value)


def _listen() -> None:
    from .scrubber import on_learn

    on_learn(remember)


_listen()


def secrets_shown() -> bool:
    """Whether `--show-secrets` lifted output redaction for this run."""
    scope = _SCOPE.get()
    return scope is not None and scope.show


def redact_text(text: str) -> str:
    """`text` with the secrets known in this scope replaced (what the CLI prints goes through this)."""
    scope = _SCOPE.get()
    if scope is None or scope.show or not text or scope.known is None:
        return text
    return scope.known.text(text)


def _scrubber(secrets: Scrubber | Mapping[str, str]) -> Scrubber:
    from .scrubber import Scrubber

    if isinstance(secrets, Scrubber):
        return secrets
    return Scrubber(dict(secrets))


def _has_any(scrubber: Scrubber, value: Any) -> bool:
    """A quick look (one C-speed encode, one automaton pass) before walking big data."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return True
    return _text_has_any(scrubber, text)


def _text_has_any(scrubber: Scrubber, text: str) -> bool:
    return bool(scrubber.find(text)) or any(rx.search(text) for rx in scrubber.patterns)


def redact_result(result: RunResult, secrets: Scrubber | Mapping[str, str]) -> None:
    """Replace every known secret in `result` by its placeholder, in place (no-op with --show-secrets)."""
    if secrets_shown():
        return
    s = _scrubber(secrets)
    if not s.has_values():
        return
    s.compile()
    red = s.redact
    result.input = red(result.input)
    result.output = red(result.output)
    if result.error is not None:
        result.error.message = s.text(result.error.message)
        result.error.payload = red(result.error.payload)
    for changes in result.models.values():
        for rows in (changes.saved, changes.updated, changes.deleted):
            if rows:
                rows.rewrite(red, needed=lambda text: _text_has_any(s, text))
    result.checkpoints = red(result.checkpoints)
    result.initial_checkpoint = red(result.initial_checkpoint)
    result.final_checkpoint = red(result.final_checkpoint)
    result.metadata_writes = red(result.metadata_writes)
    result.final_metadata = red(result.final_metadata)
    result.logs = red(result.logs)
    for exchange in result.requests:
        exchange.url = s.url(exchange.url)
        if exchange.error:
            exchange.error = s.text(exchange.error)
    for issue in result.issues:
        issue.message = s.text(issue.message)
        if issue.record_id is not None:
            issue.record_id = s.text(issue.record_id)
    result.unplayed = red(result.unplayed)
    if result.capped:
        result.capped = s.text(result.capped)


def redact_rows(secrets: Scrubber | Mapping[str, str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` with known secrets replaced (the same list when there is none): what a store or a spill file
    is given instead of the rows themselves. `--show-secrets` does not change it: that flag is about what
    is printed, and these are files."""
    s = _scrubber(secrets)
    if not s.has_values() or not _has_any(s, rows):
        return rows
    out: list[dict[str, Any]] = s.redact(rows)
    return out


def redact_lines(secrets: Scrubber | Mapping[str, str], lines: list[str]) -> list[str]:
    """`lines` (records' lines) with known secrets replaced (the same list when there is none): what a
    spill of held lines writes instead (`harness.records.spill`). Like `redact_rows`, also with
    `--show-secrets`."""
    s = _scrubber(secrets)
    if not s.has_values() or not lines or not _text_has_any(s, "\n".join(lines)):
        return lines
    out: list[str] = []
    for line in lines:
        out.append(encode_line(s.redact(json.loads(line))) if _text_has_any(s, line) else line)
    return out


class SpillRedaction:
    """`redact_lines` for a run's spills, remembering the last batch it found clean: the store and the
    result's log are handed the very same list of lines for a batch, and it is looked at once."""

    def __init__(self, secrets: Scrubber | Mapping[str, str]) -> None:
        self._secrets = secrets
        self._clean: list[str] | None = None

    def __call__(self, lines: list[str]) -> list[str]:
        if lines is self._clean:
            return lines
        out = redact_lines(self._secrets, lines)
        self._clean = lines if out is lines else None
        return out


class RedactingStore:
    """A records store whose writes are redacted first: no known secret reaches the store's file.

    Reads, checkpoints, metadata and `close()` go to the wrapped store as they are.
    """

    def __init__(self, inner: RecordStore, secrets: Scrubber | Mapping[str, str]) -> None:
        self.inner = inner
        self.scrubber = _scrubber(secrets)

    def _rows(self, rows: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        return redact_rows(self.scrubber, rows)

    def save(self, model: str, rows: builtins.list[dict[str, Any]]) -> SaveOutcome:
        return self.inner.save(model, self._rows(rows))

    def update(self, model: str, rows: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        return self.inner.update(model, self._rows(rows))

    def delete(self, model: str, rows: builtins.list[dict[str, Any]]) -> builtins.list[str]:
        return self.inner.delete(model, self._rows(rows))

    def track_deletes_start(self, model: str) -> None:
        self.inner.track_deletes_start(model)

    def track_deletes_end(self, model: str) -> builtins.list[str]:
        return self.inner.track_deletes_end(model)

    def list(self, model: str, *, modified_after: float | None = None, cursor: str | None = None,
             limit: int = 100) -> tuple[builtins.list[dict[str, Any]], str | None]:
        return self.inner.list(model, modified_after=modified_after, cursor=cursor, limit=limit)

    def get_by_ids(self, model: str, ids: builtins.list[str]) -> dict[str, dict[str, Any]]:
        return self.inner.get_by_ids(model, ids)

    def __getattr__(self, name: str) -> Any:
        # get_checkpoint, set_checkpoint, close... of the SQLite store.
        return getattr(self.inner, name)


class RedactingStream(io.TextIOBase):
    """A text stream that redacts whole lines before passing them on (a secret never spans lines).

    It keeps the inner stream's `encoding` and `errors` and has no `buffer`, so click writes text to it
    instead of going around it to the bytes below. A partial line waits for its end, or for `flush()`
    (progress displays flush without a newline).
    """

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner
        self._pending = ""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None)

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            # Text only: click probes `write(b"")` to tell a binary stream, which this is not.
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        data = self._pending + text
        cut = data.rfind("\n") + 1
        self._pending = data[cut:]
        if cut:
            self.inner.write(redact_text(data[:cut]))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.inner.write(redact_text(self._pending))
            self._pending = ""
        self.inner.flush()


@contextlib.contextmanager
def redacting_std_streams(*, active: bool = True) -> Iterator[None]:
    """`sys.stdout` and `sys.stderr` redacted for the duration of a command (flushed and put back after)."""
    if not active:
        yield
        return
    old_out, old_err = sys.stdout, sys.stderr
    out, err = RedactingStream(old_out), RedactingStream(old_err)
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        for stream in (out, err):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = old_out, old_err

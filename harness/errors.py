"""The harness's own error types and the process exit code each one maps to.

Every error a user can cause derives from `HarnessError`; the CLI prints its one-line `str()` and exits
with its `exit_code`. Errors raised *by a user's function* are not here: the runner captures those into
the run result instead.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0  # success
EXIT_FAILED = 1  # the function raised, or its data failed validation
EXIT_USAGE = 2  # bad option, unknown function or connection, broken definition or configuration
EXIT_CASSETTE = 3  # recording missing or unreadable, request not in the recording, recording refused
EXIT_DELIVERY = 4  # deploy: the target could not be written or did not accept the bundle
EXIT_STORE = 5  # the records store: locked by another process beyond the timeout, or unreadable
EXIT_INTERRUPTED = 130  # interrupted (Ctrl-C)


class HarnessError(Exception):
    """A problem the user can fix; `str()` is the whole one-line message."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(HarnessError):
    """A bad command-line value or argument."""


class ConfigError(HarnessError):
    """A broken project, connection file or provider setting."""


class DefinitionError(HarnessError):
    """A function definition that cannot be loaded: names the file and the field."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 hint: str | None = None) -> None:
        self.file = file
        self.field = field
        self.detail = f"{field}: {message}" if field else message
        if hint:
            self.detail += f" ({hint})"
        where = file or "<definition>"
        if field:
            where = f"{where}: {field}"
        super().__init__(f"{where}: {message}", hint=hint)


class NotFoundError(HarnessError):
    """An unknown function, integration or connection."""


class CassetteError(HarnessError):
    """A recording that is missing, malformed, or cannot be written."""

    exit_code = EXIT_CASSETTE


class SecretLeakError(CassetteError):
    """A recording still held a known secret after scrubbing, so it was not written."""


class ReplayMissError(CassetteError):
    """A request that the recording has no answer for."""

    def __init__(self, message: str, *, request: dict[str, Any] | None = None,
                 nearest: dict[str, Any] | None = None, differences: list[str] | None = None) -> None:
        self.request = request or {}
        self.nearest = nearest
        self.differences = differences or []
        super().__init__(message)


class StoreError(HarnessError):
    """The records store (`.harness/records.sqlite`) could not be used: another process held its lock
    beyond the busy timeout, or the file is damaged. Never the function's fault, so never its error."""

    exit_code = EXIT_STORE


class WriteBlockedError(HarnessError):
    """A live non-GET request without `--allow-writes`."""

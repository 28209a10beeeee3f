"""The `nango` object a function receives: `ActionContext` for actions and event functions, `SyncContext`
(adding records, deletes tracking and record reads) for syncs and webhook handlers.

Everything the function does through it lands in the run's `RunResult`; HTTP goes through the httpx
client whose transport stack the runner chose (live, recording, replay). Method names are Nango's, in
snake_case.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel

from .definitions import ActionError
from .http import pagination, retry
from .http.request import build_url, js_string, json_body
from .result import Issue
from .state import InvalidDataError, RunState
from .validation import check_checkpoint, check_value, parse_value, prepare_records, to_jsonable

LEVELS = ("debug", "info", "warn", "error")
_LEVEL_ALIASES = {"warning": "warn", "verbose": "debug", "silly": "debug", "http": "info"}
_UNSET: Any = object()


class ProviderHTTPError(Exception):
    """A non-2xx answer from the provider that survived the retries."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        self.headers = dict(response.headers)
        try:
            self.body: Any = response.json()
        except ValueError:
            self.body = response.text
        self.method = response.request.method
        self.url = str(response.request.url.copy_with(query=None))
        super().__init__(f"{self.method} {self.url} answered {self.status}")


@dataclass(frozen=True)
class ConnectionInfo:
    """What `get_connection()` returns (Nango's connection object, snake_case)."""

    connection_id: str
    provider: str
    provider_config_key: str
    connection_config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, Any] = field(default_factory=dict)


def _message(args: tuple[Any, ...]) -> str:
    parts = []
    for arg in args:
        if isinstance(arg, str):
            parts.append(arg)
        else:
            try:
                parts.append(jsonlib.dumps(to_jsonable(arg), ensure_ascii=False, default=str))
            except (TypeError, ValueError):
                parts.append(repr(arg))
    return " ".join(parts)


class Logged:
    """What `log()` returns: already done, and awaitable, so `nango.log(...)` and `await nango.log(...)` both
    work (an un-awaited coroutine would warn; this does not)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that finishes at once


_LOGGED = Logged()


class ActionContext:
    """The context of an action or event function."""

    def __init__(self, run: RunState) -> None:
        self._run = run

    # -- run facts ---------------------------------------------------------------------------------
    @property
    def connection_id(self) -> str:
        """The connection's id."""
        return self._run.connection.connection_id

    @property
    def integration_id(self) -> str:
        """The integration id (the function's folder under functions/, Nango's provider config key)."""
        return self._run.definition.integration or self._run.connection.integration

    @property
    def provider_config_key(self) -> str:
        """Nango's name for the integration id."""
        return self.integration_id

    @property
    def provider(self) -> str:
        """The provider of the connection (an entry of the provider catalog)."""
        return self._run.connection.provider

    @property
    def variant(self) -> str:
        """The sync variant this run is for (`base` unless a variant was given)."""
        return self._run.variant

    @property
    def last_sync_date(self) -> datetime | None:
        """When the previous successful run of this sync started (None on the first run)."""
        return self._run.last_sync_date

    # -- HTTP --------------------------------------------------------------------------------------
    async def proxy(self, method: str = "GET", endpoint: str = "", *, params: dict[str, Any] | str | None = None,
                    headers: dict[str, str] | None = None, json: Any = _UNSET, data: Any = None,
                    retries: int = 0, retry_on: list[int] | None = None,
                    base_url_override: str | None = None, timeout: float | None = None) -> httpx.Response:
        """Call the provider with this connection's credentials; non-2xx after retries raises ProviderHTTPError.

        `timeout` (seconds) bounds each attempt; a timed-out attempt is retried like a network error.
        """
        run = self._run
        method = method.upper()
        url = build_url(base_url_override or run.base_url, endpoint, params)
        req_headers = dict(headers or {})
        lower = {k.lower() for k in req_headers}
        content: bytes | None = None
        if json is not _UNSET:
            content = json_body(to_jsonable(json))
            if "content-type" not in lower:
                req_headers["Content-Type"] = "application/json"
        elif data is not None and method in ("POST", "PUT", "PATCH", "DELETE"):
            ctype = next((v for k, v in req_headers.items() if k.lower() == "content-type"), "")
            if isinstance(data, (bytes, str)):
                content = data.encode("utf-8") if isinstance(data, str) else data
            elif "x-www-form-urlencoded" in ctype.lower() and isinstance(data, dict):
                content = urlencode({k: js_string(v) for k, v in data.items() if v is not None}).encode()
            else:
                # axios sends an object body as JSON unless told otherwise.
                content = json_body(to_jsonable(data))
                if not ctype:
                    req_headers["Content-Type"] = "application/json"
        retries = max(0, int(retries))
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        creds_at_401: dict[str, Any] | None = None
        for attempt in range(retries + 1):
            request = run.client.build_request(method, url, headers=req_headers, content=content, **extra,
                                               extensions={"harness_attempt": attempt})
            try:
                response = await run.client.send(request)
            except httpx.TransportError as exc:
                reason = f"network_error_{type(exc).__name__}"
                if attempt >= retries:
                    if retries:
                        self._retry_log(reason, None, attempt, retries)
                    raise
                wait = retry.wait_seconds(None, run.provider, attempt, run.clock.now())
                self._retry_log(reason, wait, attempt, retries)
                await run.clock.sleep(wait)
                continue
            if response.is_success:
                return response
            reason = f"status_code_{response.status_code}"
            if attempt < retries and retry.is_retryable(response, run.provider, retry_on):
                if response.status_code == 401:
                    # Nango's runner: a 401 refetches the connection; a further 401 with the same
                    # credentials ends the retries (reason invalid_credentials).
                    creds = dict(run.connection.credentials)
                    if creds_at_401 is not None and creds == creds_at_401:
                        self._retry_log("invalid_credentials", None, attempt, retries)
                        raise ProviderHTTPError(response)
                    creds_at_401 = creds
                wait = retry.wait_seconds(response, run.provider, attempt, run.clock.now())
                self._retry_log(reason, wait, attempt, retries)
                await run.clock.sleep(wait)
                continue
            if retries:
                self._retry_log(reason if attempt >= retries else "not_retryable", None, attempt, retries)
            raise ProviderHTTPError(response)
        raise AssertionError("unreachable: the loop returns or raises")

    def _retry_log(self, reason: str, wait: float | None, attempt: int, retries: int) -> None:
        if wait is None:
            self._run.add_log("warn", f"Skipping retry HTTP call (reason: {reason}) [{attempt + 1}/{retries}]")
            return
        self._run.add_log("warn", f"Retrying HTTP call (reason: {reason}). Waiting for {int(wait * 1000)}ms "
                          f"[{attempt + 1}/{retries}]")

    async def get(self, endpoint: str, **kwargs: Any) -> httpx.Response:
        """`proxy("GET", endpoint, **kwargs)`."""
        return await self.proxy("GET", endpoint, **kwargs)

    async def post(self, endpoint: str, **kwargs: Any) -> httpx.Response:
        """`proxy("POST", endpoint, **kwargs)` (a live run needs --allow-writes)."""
        return await self.proxy("POST", endpoint, **kwargs)

    async def put(self, endpoint: str, **kwargs: Any) -> httpx.Response:
        """`proxy("PUT", endpoint, **kwargs)` (a live run needs --allow-writes)."""
        return await self.proxy("PUT", endpoint, **kwargs)

    async def patch(self, endpoint: str, **kwargs: Any) -> httpx.Response:
        """`proxy("PATCH", endpoint, **kwargs)` (a live run needs --allow-writes)."""
        return await self.proxy("PATCH", endpoint, **kwargs)

    async def delete(self, endpoint: str, **kwargs: Any) -> httpx.Response:
        """`proxy("DELETE", endpoint, **kwargs)` (a live run needs --allow-writes)."""
        return await self.proxy("DELETE", endpoint, **kwargs)

    async def paginate(self, endpoint: str, *, params: dict[str, Any] | None = None,
                       headers: dict[str, str] | None = None, paginate: dict[str, Any] | None = None,
                       method: str = "GET", json: Any = None, retries: int = 0,
                       retry_on: list[int] | None = None, timeout: float | None = None
                       ) -> AsyncIterator[list[Any]]:
        """Pages (lists) of an endpoint, with the provider's pagination defaults under `paginate`."""
        run = self._run
        conf = pagination.settings(run.provider.paginate, paginate)

        async def fetch(ep: str, p: dict[str, Any], body: Any, base: str | None) -> httpx.Response:
            kwargs: dict[str, Any] = {"params": p, "headers": headers, "retries": retries, "retry_on": retry_on,
                                      "base_url_override": base, "timeout": timeout}
            if body is not None:
                kwargs["json"] = body
            return await self.proxy(method, ep, **kwargs)

        async for page in pagination.paginate(fetch, endpoint, method, dict(params or {}), json, conf,
                                              max_pages=run.max_pages, warn=lambda m: run.add_log("warn", m),
                                              on_cap=run.cap):
            yield page

    # -- checkpoints -------------------------------------------------------------------------------
    async def get_checkpoint(self) -> Any:
        """The declared checkpoint model's instance (a dict if none is declared), or None."""
        run = self._run
        run.checkpoint_read = True
        if run.checkpoint is None:
            return None
        model = run.checkpoint_model
        return parse_value(run.checkpoint, model) if model else dict(run.checkpoint)

    async def save_checkpoint(self, checkpoint: Any) -> None:
        """Save resumable progress (validated against the declared checkpoint model: a flat map of scalars)."""
        run = self._run
        data, issues = check_checkpoint(checkpoint, run.checkpoint_model, strict=run.strict)
        run.report(issues)
        run.checkpoint = data
        run.result.checkpoints.append(data)
        run.result.checkpoint_requests.append(len(run.result.requests))
        run.checkpoint_saved()

    async def clear_checkpoint(self) -> None:
        """Forget the saved checkpoint: the next run starts from the beginning."""
        run = self._run
        if run.checkpoint is None:
            run.cleared_empty = True
        run.checkpoint = None
        run.result.checkpoints.append(None)
        run.result.checkpoint_requests.append(len(run.result.requests))

    # -- metadata ----------------------------------------------------------------------------------
    async def get_metadata(self) -> Any:
        """The declared metadata model's instance when there is one, else the dict."""
        run = self._run
        meta = run.metadata
        model = run.definition.metadata
        if model is None or meta is None:
            return meta
        _, issues = check_value(meta, model, "metadata", strict=run.strict, forbid_extra=False)
        run.report(issues)
        return parse_value(meta, model) if not [i for i in issues if i.severity == "error"] else meta

    async def set_metadata(self, metadata: Any) -> None:
        """Replace the connection's metadata (shown in the result; sent to the source only with --persist-metadata)."""
        run = self._run
        data, issues = check_value(metadata, run.definition.metadata, "metadata", strict=run.strict, forbid_extra=False)
        run.report(issues)
        run.metadata = data
        run.result.metadata_writes.append({"op": "set", "value": data})

    async def update_metadata(self, metadata: Any) -> None:
        """Merge keys into the connection's metadata (shown in the result; sent only with --persist-metadata)."""
        run = self._run
        partial = to_jsonable(metadata)
        if not isinstance(partial, dict):
            run.report([Issue("metadata", "update_metadata() takes an object")])
            return
        merged = {**(run.metadata or {}), **partial}
        _, issues = check_value(merged, run.definition.metadata, "metadata", strict=run.strict, forbid_extra=False)
        run.report(issues)
        run.metadata = merged
        run.result.metadata_writes.append({"op": "update", "value": partial})

    # -- connection --------------------------------------------------------------------------------
    async def get_connection(self) -> ConnectionInfo:
        """The connection: id, provider, provider_config_key, connection_config, metadata, credentials."""
        c = self._run.connection
        meta = self._run.metadata
        return ConnectionInfo(connection_id=c.connection_id, provider=c.provider,
                              provider_config_key=self.integration_id, connection_config=dict(c.connection_config),
                              metadata=dict(meta) if isinstance(meta, dict) else {},
                              credentials=dict(c.credentials))

    async def get_token(self) -> Any:
        """The connection's credential: the access token (a string) or the credential object."""
        return self._run.connection.token()

    # -- logs --------------------------------------------------------------------------------------
    def log(self, *args: Any, level: str = "info") -> Logged:
        """Add a line to the run log; `level` is debug, info, warn or error. Works with and without `await`
        (Nango's templates write `await nango.log(...)`)."""
        lvl = _LEVEL_ALIASES.get(level, level)
        if lvl not in LEVELS:
            lvl = "info"
        self._run.add_log(lvl, _message(args))
        return _LOGGED

    # Nango also offers the class on the instance: `raise nango.ActionError(...)`.
    ActionError = ActionError


class SyncContext(ActionContext):
    """The context of a sync or of its webhook handler."""

    def _model(self, model: str | type[BaseModel]) -> tuple[str, type[BaseModel]]:
        name = model if isinstance(model, str) else model.__name__
        models = self._run.sync_models
        if name not in models:
            raise InvalidDataError([Issue("record", f"model {name!r} is not declared by this sync "
                                          f"(declared: {', '.join(models) or 'none'})", model=name)])
        return name, models[name]

    def _full(self, name: str) -> str:
        return name if self._run.variant == "base" else f"{name}::{self._run.variant}"

    async def batch_save(self, records: list[Any], model: str | type[BaseModel]) -> bool:
        """Save records of `model` (a model class or its name), each validated; added/updated/unchanged are counted."""
        run = self._run
        name, cls = self._model(model)
        if not records:
            return True
        rows, issues = prepare_records(records, cls, name, strict=run.strict)
        run.report(issues)
        outcome = run.store.save(self._full(name), rows)
        changes = run.result.model(name)
        changes.saved.extend(rows, outcome.lines)
        changes.added_count += len(outcome.added)
        changes.updated_count += len(outcome.updated)
        changes.unchanged_count += len(outcome.unchanged)
        run.count_records(len(rows))
        return True

    async def batch_update(self, records: list[Any], model: str | type[BaseModel]) -> bool:
        """Merge partial records into stored ones by id (unknown ids are ignored)."""
        run = self._run
        name, cls = self._model(model)
        if not records:
            return True
        rows, issues = prepare_records(records, cls, name, strict=False, kind="update")
        # A partial update legitimately omits required fields: only id problems count.
        run.report([i for i in issues if i.path == "id" or i.kind == "duplicate"] if run.strict else issues)
        merged = run.store.update(self._full(name), rows)
        changes = run.result.model(name)
        changes.updated.extend(rows)
        changes.updated_count += len(merged)
        return True

    async def batch_delete(self, records: list[Any], model: str | type[BaseModel]) -> bool:
        """Mark records of `model` deleted by id."""
        run = self._run
        name, _cls = self._model(model)
        if not records:
            return True
        rows: list[dict[str, Any]] = []
        for i, rec in enumerate(records):
            data = to_jsonable(rec)
            rid = data.get("id") if isinstance(data, dict) else None
            if isinstance(rid, int) and not isinstance(rid, bool):
                rid = str(rid)
            if not isinstance(rid, str) or not rid:
                run.report([Issue("record", "record to delete has no id", model=name, index=i, path="id")])
                continue
            rows.append({**data, "id": rid})
        deleted = run.store.delete(self._full(name), rows)
        changes = run.result.model(name)
        changes.deleted.extend(rows)
        changes.deleted_count += len(deleted)
        return True

    async def track_deletes_start(self, model: str | type[BaseModel]) -> None:
        """Start full-refresh deletion detection for `model`."""
        name, _ = self._model(model)
        self._run.store.track_deletes_start(self._full(name))

    async def track_deletes_end(self, model: str | type[BaseModel]) -> list[str]:
        """End deletion detection: records of `model` not saved since the start are deleted; returns their ids."""
        run = self._run
        name, _ = self._model(model)
        gone = run.store.track_deletes_end(self._full(name))
        changes = run.result.model(name)
        changes.deleted.extend({"id": rid} for rid in gone)
        changes.deleted_count += len(gone)
        return gone

    async def list_records(self, model: str | type[BaseModel], *, modified_after: datetime | str | None = None,
                           cursor: str | None = None, limit: int = 100) -> AsyncIterator[dict[str, Any]]:
        """This connection's stored records of `model`, oldest change first (deleted ones included)."""
        name, _ = self._model(model)
        after: float | None = None
        if isinstance(modified_after, str):
            modified_after = datetime.fromisoformat(modified_after.replace("Z", "+00:00"))
        if isinstance(modified_after, datetime):
            after = modified_after.timestamp()
        while True:
            page, cursor = self._run.store.list(self._full(name), modified_after=after, cursor=cursor, limit=limit)
            for rec in page:
                yield rec
            if cursor is None:
                return

    async def get_records_by_ids(self, ids: list[str | int], model: str | type[BaseModel]) -> dict[str, Any]:
        """Stored records of `model` by id (a dict of id -> record; missing ids are left out)."""
        name, _ = self._model(model)
        return self._run.store.get_by_ids(self._full(name), [str(i) for i in ids])

"""OpenTelemetry spans for runs: one span per run, one child span per provider request.

Spans are built after the run from its `RunResult` (the run itself knows nothing of tracing): the run span
carries the function, integration, connection, mode, scenario, status, error type and the record counts
per model; each request span carries the HTTP attributes of OpenTelemetry's semantic conventions (method,
scrubbed URL, server address, status code, error type). Each request span starts when the request did
(`Exchange.at_ms`, from the run's start; laid end to end when a result does not carry it).

Where spans go: OTLP over HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set (the
exporter reads the standard `OTEL_*` variables), the console (stderr) when asked, or any exporter a caller
passes (tests pass an in-memory one). With none of them, nothing is built. `export_run` does it all for
one run, for a one-shot command such as `harness dryrun --otel`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import __version__
from .errors import ConfigError
from .result import RunResult

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

OTLP_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
TRACER_NAME = "harness"


def otlp_configured(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return any(env.get(name) for name in OTLP_VARIABLES)


def _require_sdk() -> None:
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        raise ConfigError("OpenTelemetry export needs opentelemetry-sdk",
                          hint="pip install 'integration-harness[serve]'") from None


def make_provider(*, console: bool = False, exporter: SpanExporter | None = None,
                  console_out: IO[str] | None = None, otlp: bool | None = None) -> TracerProvider | None:
    """A tracer provider exporting where asked; None when spans would go nowhere."""
    otlp = otlp_configured() if otlp is None else otlp
    if not (console or exporter is not None or otlp):
        return None
    _require_sdk()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win (Resource.create reads them); else "harness".
    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "harness"}))
    if "service.version" not in resource.attributes:
        resource = resource.merge(Resource({"service.version": __version__}))
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    if console:
        out = console_out or sys.stderr
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
    if otlp:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfigError("OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP exporter is not installed",
                              hint="pip install 'integration-harness[serve]'") from None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def run_attributes(result: RunResult) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "harness.function": result.function,
        "harness.integration": result.integration,
        "harness.function.type": result.function_type,
        "harness.connection_id": result.connection_id,
        "harness.mode": result.mode,
        "harness.status": result.status,
        "harness.requests": len(result.requests),
    }
    if result.scenario:
        attrs["harness.scenario"] = result.scenario
    for key, value in result.totals().items():
        attrs[f"harness.records.{key}"] = value
    for model, counts in result.counts().items():
        for key, value in counts.items():
            attrs[f"harness.model.{model}.{key}"] = value
    if result.error is not None:
        attrs["error.type"] = result.error.type
    return attrs


def request_attributes(method: str, url: str, status: int | None, source: str, error: str | None) -> dict[str, Any]:
    parts = urlsplit(url)
    attrs: dict[str, Any] = {"http.request.method": method, "url.full": url, "url.path": parts.path or "/",
                             "harness.source": source}
    if parts.scheme:
        attrs["url.scheme"] = parts.scheme
    if parts.hostname:
        attrs["server.address"] = parts.hostname
        attrs["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
    if status is not None:
        attrs["http.response.status_code"] = status
    if error:
        attrs["error.type"] = error
    elif status is not None and status >= 400:
        attrs["error.type"] = str(status)
    return attrs


def parent_from(traceparent: str | None) -> Context | None:
    """The W3C trace context an incoming request carried, so a run joins the app's trace."""
    if not traceparent:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


def record_run(provider: TracerProvider, result: RunResult, *, started_at: float,
               extra: Mapping[str, Any] | None = None, parent: Context | None = None) -> None:
    """Emit the spans of one finished run that started at `started_at` (seconds since the epoch)."""
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    tracer = provider.get_tracer(TRACER_NAME, __version__)
    start = int(started_at * 1e9)
    total_ns = int(result.timings.get("total", sum(r.duration_ms for r in result.requests)) * 1e6)
    attrs = run_attributes(result)
    attrs.update(extra or {})
    span = tracer.start_span(f"{result.function_type} {result.integration}/{result.function}", context=parent,
                             kind=SpanKind.INTERNAL, start_time=start, attributes=attrs)
    inside = trace.set_span_in_context(span)
    at = start
    for exchange in result.requests:
        length = int(exchange.duration_ms * 1e6)
        if exchange.at_ms is not None:  # the request's own start, when the run kept it
            at = start + int(exchange.at_ms * 1e6)
        path = urlsplit(exchange.url).path or "/"
        child = tracer.start_span(f"{exchange.method} {path}", context=inside, kind=SpanKind.CLIENT, start_time=at,
                                  attributes=request_attributes(exchange.method, exchange.url, exchange.status,
                                                                exchange.source, exchange.error))
        if exchange.error or (exchange.status is not None and exchange.status >= 400):
            child.set_status(Status(StatusCode.ERROR, exchange.error or f"HTTP {exchange.status}"))
        child.end(end_time=at + length)
        at += length
    if result.error is not None:
        span.set_status(Status(StatusCode.ERROR, f"{result.error.type}: {result.error.message}"[:500]))
    elif not result.ok:
        span.set_status(Status(StatusCode.ERROR, result.status))
    span.end(end_time=max(start + total_ns, at))


def export_run(result: RunResult, *, started_at: float, console: bool | None = None,
               exporter: SpanExporter | None = None) -> bool:
    """Export one run's spans and flush them (for `harness dryrun --otel`). Console unless OTLP is set up,
    when `console` is None. Returns whether anything was exported."""
    if console is None:
        console = not otlp_configured()
    provider = make_provider(console=console, exporter=exporter)
    if provider is None:
        return False
    try:
        record_run(provider, result, started_at=started_at)
        provider.force_flush()
    finally:
        provider.shutdown()
    return True

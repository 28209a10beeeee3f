"""OpenTelemetry spans: one per run with its counts, one per provider request with HTTP attributes; exported to
memory, the console, and OTLP over HTTP (a real collector stand-in on 127.0.0.1)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from harness.pipeline import RunRequest, execute
from harness.project import load_project
from harness.telemetry import export_run, make_provider
from tests.fakes.server_base import FakeServer, Reply, Seen
from tests.serve_support import Served, full_project, project_with, wait_for

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def by_name(spans: tuple[ReadableSpan, ...], prefix: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name.startswith(prefix)]


def test_run_and_request_spans(tmp_path: Path) -> None:
    memory = InMemorySpanExporter()
    with Served(full_project(tmp_path / "p"), exporter=memory) as served:
        before = time.time()
        served.run_sync()
        spans = wait_for("the spans", lambda: len(memory.get_finished_spans()) >= 4 and memory.get_finished_spans())
    [run] = by_name(spans, "sync github/issues")
    requests = by_name(spans, "GET ")
    assert run.kind == SpanKind.INTERNAL and run.status.status_code != StatusCode.ERROR
    attrs = dict(run.attributes or {})
    assert attrs["harness.function"] == "issues" and attrs["harness.integration"] == "github"
    assert attrs["harness.connection_id"] == "demo" and attrs["harness.mode"] == "replay"
    assert attrs["harness.function.type"] == "sync" and attrs["harness.status"] == "success"
    assert attrs["harness.model.Issue.added"] == 12 and attrs["harness.records.added"] == 12
    assert attrs["harness.requests"] == 3 and attrs["harness.trigger"] == "api"
    assert attrs["harness.sync_type"] == "INITIAL" and attrs["harness.scenario"] == "default"
    assert [s.name for s in requests] == ["GET /repos/octocat/hello-world/issues"] * 3
    for span in requests:
        http = dict(span.attributes or {})
        assert span.kind == SpanKind.CLIENT and span.parent is not None
        assert span.parent.span_id == run.context.span_id and span.context.trace_id == run.context.trace_id
        assert http["http.request.method"] == "GET" and http["http.response.status_code"] == 200
        assert http["server.address"] == "api.github.com" and http["server.port"] == 443
        assert str(http["url.full"]).startswith("https://api.github.com/repos/octocat/hello-world/issues?")
        assert run.start_time is not None and span.start_time is not None and span.end_time is not None
        assert run.end_time is not None and run.start_time <= span.start_time <= span.end_time <= run.end_time
    assert run.resource.attributes["service.name"] == "harness"
    # Wall-clock times, not the recording's frozen time.
    assert run.start_time is not None and abs(run.start_time / 1e9 - before) < 60


def test_an_action_joins_the_callers_trace_and_a_failure_is_an_error(tmp_path: Path) -> None:
    memory = InMemorySpanExporter()
    with Served(full_project(tmp_path / "p"), exporter=memory) as served:
        ok = served.action("create-issue", {"title": "Found a bug", "body": "It breaks on Tuesdays.",
                                            "labels": ["bug"]}, traceparent=f"00-{TRACE_ID}-{PARENT_ID}-01")
        assert ok.status_code == 200
        served.action("refuse", {"what": "http"})
        spans = memory.get_finished_spans()
    [action] = by_name(spans, "action github/create-issue")
    assert format(action.context.trace_id, "032x") == TRACE_ID
    assert action.parent is not None and format(action.parent.span_id, "016x") == PARENT_ID
    [post] = by_name(spans, "POST ")
    assert dict(post.attributes or {})["http.response.status_code"] == 201
    [refused] = by_name(spans, "action github/refuse")
    assert refused.status.status_code == StatusCode.ERROR
    assert dict(refused.attributes or {})["error.type"] == "script_http_error"
    [missing] = by_name(spans, "GET /missing")
    assert missing.status.status_code == StatusCode.ERROR and dict(missing.attributes or {})["error.type"] == "404"


@pytest.fixture
def result(tmp_path: Path) -> tuple[float, object]:
    root = project_with(tmp_path / "p")
    started = time.time()
    outcome = execute(RunRequest(function="issues", connection_id="demo", mode="replay", project=load_project(root)))
    return started, outcome.result


def test_export_run_for_a_one_shot_command(result: tuple[float, object]) -> None:
    from harness.result import RunResult

    started, run = result
    assert isinstance(run, RunResult)
    memory = InMemorySpanExporter()
    assert export_run(run, started_at=started, console=False, exporter=memory)
    assert [s.name for s in memory.get_finished_spans()][-1] == "sync github/issues"
    out = io.StringIO()
    provider = make_provider(console=True, console_out=out, otlp=False)
    assert provider is not None
    from harness.telemetry import record_run

    record_run(provider, run, started_at=started)
    provider.shutdown()
    assert '"name": "sync github/issues"' in out.getvalue() and '"http.request.method": "GET"' in out.getvalue()
    assert make_provider(console=False, otlp=False) is None


def test_otlp_export_when_the_endpoint_is_set(result: tuple[float, object], monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from harness.result import RunResult

    started, run = result
    assert isinstance(run, RunResult)

    def collector(seen: Seen) -> Reply:
        return Reply(200, raw=b"", headers={"content-type": "application/x-protobuf"})

    with FakeServer(collector) as otlp:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.base_url)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "my-app-tests")
        assert export_run(run, started_at=started)  # OTLP set up: no console by default
        posts = [r for r in otlp.requests if r.path == "/v1/traces"]
    assert posts and posts[0].headers["content-type"] == "application/x-protobuf"
    request = ExportTraceServiceRequest()
    request.ParseFromString(b"".join(p.body for p in posts))
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert {s.name for s in spans} == {"sync github/issues", "GET /repos/octocat/hello-world/issues"}
    service = {a.key: a.value.string_value for a in request.resource_spans[0].resource.attributes}["service.name"]
    assert service == "my-app-tests"

"""Bad requests get Nango's answer (status, `{"error": {code, message, errors?}}`) and change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.http.network import tls_context
from tests.serve_support import Served, full_project

HEADERS = {"Connection-Id": "demo", "Provider-Config-Key": "github"}
BODIES: list[tuple[bytes, str]] = [(b"not json", "not valid JSON"), (b"{", "not valid JSON"), (b"", "empty"),
                                   (b"\xff\xfe", "not")]
POSTS = [("POST", "/action/trigger"), ("POST", "/sync/trigger"), ("POST", "/sync/pause"), ("POST", "/sync/start"),
         ("POST", "/connections/metadata"), ("PATCH", "/connections/metadata"), ("POST", "/connections"),
         ("POST", "/webhook/github"), ("POST", "/webhook/dev/github")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with Served(full_project(tmp_path_factory.mktemp("bad") / "p")) as s:
        s.run_sync()  # some state to protect
        yield s


def state(s: Served) -> str:
    """Everything a bad request must leave alone."""
    rt = s.runtime
    return json.dumps({
        "metadata": {f"{k[0]}/{k[1]}": c.metadata for k, c in sorted(rt.registry.connections.items())},
        "connections": sorted(rt.registry.connections),
        "runs": {k: [r.to_json() for r in v] for k, v in rt.state.runs.items()},
        "async": sorted(rt.runner.async_actions),
        "schedules": {k: e.status for k, e in rt.scheduler.schedules.items()},
        "records": s.records().text,
        "logs": s.logs,
    }, sort_keys=True)


@pytest.fixture
def unchanged(served: Served) -> Iterator[None]:
    before = state(served)
    yield
    assert state(served) == before


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(("header", "code"), [(None, "missing_auth_header"), ("", "missing_auth_header"),
                                              ("Basic abc", "malformed_auth_header"),
                                              ("Bearer", "malformed_auth_header"),
                                              ("Bearer a b", "malformed_auth_header"),
                                              ("Bearer wrong-key", "unknown_account"),
                                              ("Bearer sk-serve-test-and-more", "unknown_account")])
@pytest.mark.parametrize(("method", "path"), [("GET", "/connections"), ("POST", "/action/trigger"),
                                              ("GET", "/records/"), ("POST", "/sync/trigger"),
                                              ("GET", "/scripts/config"), ("GET", "/sync/status")])
def test_bad_or_missing_key_is_401(served: Served, unchanged: None, header: str | None, code: str, method: str,
                                   path: str) -> None:
    import httpx

    headers = {**HEADERS, **({"Authorization": header} if header is not None else {})}
    body = json.dumps({"action_name": "create-issue", "input": {"title": "x"}, "syncs": ["issues"]})
    response = httpx.request(method, served.url + path, headers=headers, content=body, verify=tls_context())
    error_of(response, 401, code)


@pytest.mark.parametrize(("raw", "says"), BODIES)
@pytest.mark.parametrize(("method", "path"), POSTS)
def test_a_body_that_is_not_json_is_400(served: Served, unchanged: None, raw: bytes, says: str, method: str,
                                        path: str) -> None:
    response = served.client.request(method, path, content=raw, headers={**HEADERS, "content-type": "application/json"})
    assert says.lower() in error_of(response, 400, "invalid_body")["message"].lower()


@pytest.mark.parametrize(("method", "path", "body", "where"), [
    ("POST", "/sync/trigger", {"syncs": "issues", "provider_config_key": "github"}, ["syncs"]),
    ("POST", "/sync/trigger", {"syncs": ["issues"], "provider_config_key": "github", "sync_mode": "fast"},
     ["sync_mode"]),
    ("POST", "/sync/pause", {"syncs": ["issues"]}, ["provider_config_key"]),
    ("POST", "/connections/metadata", {"connection_id": "demo", "provider_config_key": "github", "metadata": [1]},
     ["metadata"]),
    ("PATCH", "/connections/metadata", {"provider_config_key": "github", "metadata": {}}, ["connection_id"]),
    ("POST", "/action/trigger", {"input": {}}, ["action_name"]),
    ("POST", "/action/trigger", [1, 2], []),
    ("POST", "/connections", {"provider_config_key": "github", "connection_id": "a b"}, ["connection_id"]),
])
def test_a_body_of_the_wrong_shape_is_400_listing_the_problem(served: Served, unchanged: None, method: str,
                                                              path: str, body: Any, where: list[str]) -> None:
    error = error_of(served.client.request(method, path, json=body, headers=HEADERS), 400, "invalid_body")
    assert error["errors"] and all({"code", "message", "path"} <= set(e) for e in error["errors"])
    if where:
        assert error["errors"][0]["path"][:1] == where


def test_invalid_action_input_lists_every_error(served: Served, unchanged: None) -> None:
    bad = {"title": "", "labels": "bug", "assignee": "me"}
    error = error_of(served.action("create-issue", bad), 400, "invalid_action_input")
    assert sorted(tuple(e["path"]) for e in error["errors"]) == [("assignee",), ("labels",), ("title",)]
    assert "title" in error["message"] and "labels" in error["message"] and "assignee" in error["message"]
    missing = error_of(served.action("create-issue"), 400, "invalid_action_input")
    assert missing["errors"]
    async_ = error_of(served.action("create-issue", bad, **{"X-Async": "true"}), 400, "invalid_action_input")
    assert len(async_["errors"]) == 3


@pytest.mark.parametrize(("request_", "status", "code", "named"), [
    (("POST", "/action/trigger", {"Provider-Config-Key": "gitlab"}, {"action_name": "create-issue"}),
     404, "unknown_provider_config", "gitlab"),
    (("POST", "/action/trigger", {"Connection-Id": "ghost"}, {"action_name": "create-issue"}),
     404, "unknown_connection", "ghost"),
    (("POST", "/action/trigger", {}, {"action_name": "close-issue"}), 404, "not_found", "close-issue"),
    (("POST", "/sync/trigger", {}, {"syncs": ["pulls"], "provider_config_key": "github"}), 404, "unknown_sync",
     "pulls"),
    (("POST", "/sync/trigger", {}, {"syncs": ["issues"], "provider_config_key": "github", "connection_id": "ghost"}),
     404, "unknown_connection", "ghost"),
    (("POST", "/sync/trigger", {}, {"syncs": ["issues"], "provider_config_key": "nope"}), 404,
     "unknown_provider_config", "nope"),
    (("POST", "/sync/start", {}, {"syncs": ["pulls"], "provider_config_key": "github"}), 404, "unknown_sync", "pulls"),
    (("POST", "/sync/pause", {}, {"syncs": ["issues"], "provider_config_key": "github", "connection_id": "ghost"}),
     404, "unknown_connection", "ghost"),
    (("GET", "/sync/status?syncs=pulls&provider_config_key=github", {}, None), 404, "unknown_sync", "pulls"),
    (("GET", "/sync/status?syncs=issues&provider_config_key=nope", {}, None), 404, "unknown_provider_config",
     "nope"),
    (("GET", "/records/?model=Pull", {}, None), 404, "unknown_model", "Pull"),
    (("GET", "/records/?model=Issue", {"Connection-Id": "ghost"}, None), 404, "unknown_connection", "ghost"),
    (("GET", "/records/?model=Issue", {"Provider-Config-Key": "nope"}, None), 404, "unknown_provider_config", "nope"),
    (("GET", "/connections/ghost?provider_config_key=github", {}, None), 404, "unknown_connection", "ghost"),
    (("GET", "/connections/demo?provider_config_key=nope", {}, None), 404, "unknown_provider_config", "nope"),
    (("DELETE", "/connections/ghost?provider_config_key=github", {}, None), 404, "unknown_connection", "ghost"),
    (("POST", "/connections/metadata", {}, {"connection_id": ["demo", "ghost"], "provider_config_key": "github",
                                           "metadata": {"x": 1}}), 404, "unknown_connection", "ghost"),
    (("PATCH", "/connections/metadata", {}, {"connection_id": "demo", "provider_config_key": "nope",
                                            "metadata": {"x": 1}}), 404, "unknown_provider_config", "nope"),
    (("POST", "/connections", {}, {"provider_config_key": "nope", "connection_id": "c2"}), 404,
     "unknown_provider_config", "nope"),
    (("POST", "/webhook/nope", {}, {"action": "opened"}), 404, "unknown_provider_config", "nope"),
    (("POST", "/webhook/github", {"Connection-Id": "ghost"}, {"action": "opened"}), 404, "unknown_connection",
     "ghost"),
])
def test_unknown_names_are_404_naming_them(served: Served, unchanged: None, request_: tuple[Any, ...], status: int,
                                           code: str, named: str) -> None:
    method, path, headers, body = request_
    response = served.client.request(method, path, headers={**HEADERS, **headers},
                                     **({"json": body} if body is not None else {}))
    assert repr(named) in error_of(response, status, code)["message"]


@pytest.mark.parametrize(("params", "name"), [({"limit": "0"}, "limit"), ({"limit": "10001"}, "limit"),
                                              ({"limit": "ten"}, "limit"), ({"cursor": "abc"}, "cursor"),
                                              ({"modified_after": "yesterday"}, "modified_after"),
                                              ({"filter": "created"}, "filter"), ({"filter": ","}, "filter"),
                                              ({"ids": [str(i) for i in range(101)]}, "ids"), ({}, "model")])
def test_bad_record_queries_are_400(served: Served, unchanged: None, params: dict[str, Any], name: str) -> None:
    query = {"model": "Issue", **params} if name != "model" else {}
    response = served.client.get("/records/", params=query, headers=HEADERS)
    error = error_of(response, 400, "invalid_query_params")
    assert error["errors"][0]["path"] == [name]


@pytest.mark.parametrize(("method", "path", "headers", "code"), [
    ("GET", "/sync/status?provider_config_key=github", {}, "invalid_query_params"),
    ("GET", "/sync/status?syncs=issues", {}, "missing_provider_config_key"),
    ("GET", "/connections/demo", {}, "missing_provider_config_key"),
    ("GET", "/records/?model=Issue", {"Connection-Id": ""}, "missing_connection_id"),
    ("GET", "/scripts/config?format=yaml", {}, "invalid_query_params"),
    ("POST", "/action/trigger?x=1", {}, "invalid_query_params"),
    ("POST", "/action/trigger", {"X-Async": "maybe"}, "invalid_headers"),
    ("POST", "/action/trigger", {"X-Max-Retries": "9"}, "invalid_headers"),
    ("POST", "/action/trigger", {"X-Async": "true", "X-Max-Retries": "-1"}, "invalid_headers"),
    ("POST", "/action/trigger", {"X-Harness-Scenario": "../default"}, "invalid_headers"),
])
def test_other_bad_requests_are_400(served: Served, unchanged: None, method: str, path: str,
                                    headers: dict[str, str], code: str) -> None:
    body = {"action_name": "create-issue", "input": {"title": "Found a bug"}} if method == "POST" else None
    response = served.client.request(method, path, headers={**HEADERS, **headers},
                                     **({"json": body} if body is not None else {}))
    error_of(response, 400, code)


def test_variants_are_refused(served: Served, unchanged: None) -> None:
    trigger = served.client.post("/sync/trigger", json={"syncs": [{"name": "issues", "variant": "v2"}],
                                                        "provider_config_key": "github"})
    error_of(trigger, 400, "invalid_variant")
    error_of(served.records(variant="v2"), 400, "invalid_variant")


def test_a_rejected_connection_is_not_created(served: Served, tmp_path: Path) -> None:
    before = state(served)
    response = served.client.post("/connections", json={"provider_config_key": "github", "connection_id": "no",
                                                        "connection_config": {"reject": True},
                                                        "credentials": {"type": "OAUTH2",
                                                                        "access_token": "tok-123456"}})
    error = error_of(response, 400, "connection_validation_failed")
    assert error["message"] == "this account is not allowed"
    assert served.client.get("/connections/no", params={"provider_config_key": "github"}).status_code == 404
    after = json.loads(state(served))
    assert json.loads(before)["connections"] == after["connections"]

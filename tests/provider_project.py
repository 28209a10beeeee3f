"""A small project wired to the generic fake provider: one action that calls, paginates or writes metadata."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from harness.clock import VirtualClock
from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from harness.result import RunResult

CALL = """
from harness import action

@action()
async def call(nango, input):
    kind = input["kind"]
    if kind == "proxy":
        kwargs = {k: input[k] for k in ("params", "retries", "retry_on", "timeout", "headers") if k in input}
        if "json" in input:
            kwargs["json"] = input["json"]
        r = await nango.proxy(input.get("method", "GET"), input["endpoint"], **kwargs)
        return {"status": r.status_code, "body": r.json()}
    if kind == "paginate":
        pages, seen = [], []
        conf = dict(input.get("paginate") or {})
        if input.get("on_page"):
            conf["on_page"] = lambda info: seen.append([info["next_page_param"], len(pages)])
        async for page in nango.paginate(input["endpoint"], params=input.get("params"), paginate=conf or None,
                                         method=input.get("method", "GET"), json=input.get("json")):
            pages.append([r["id"] for r in page])
        return {"pages": pages, "on_page": seen}
    if kind == "token":
        return {"token": await nango.get_token()}
    if kind == "metadata":
        await nango.update_metadata(input["value"])
        return {"metadata": await nango.get_metadata()}
"""

PROVIDERS = """
[tool.harness.providers.fakeprov]
base_url = "{url}"
token_url = "{url}/oauth/token"

[tool.harness.providers.fake-header]
alias = "fakeprov"
headers = {{x-api-key = "${{apiKey}}"}}

[tool.harness.providers.fake-query]
alias = "fakeprov"
query = {{api_key = "${{apiKey}}"}}

[tool.harness.providers.fake-body]
alias = "fakeprov"
body = {{api_key = "${{apiKey}}"}}

[tool.harness.providers.fake-custom]
alias = "fakeprov"
headers = {{x-custom-auth = "${{credentials.user}}/${{credentials.key}}", user-agent = "fake-agent/1"}}

[tool.harness.providers.fake-cursor]
alias = "fakeprov"

[tool.harness.providers.fake-cursor.paginate]
type = "cursor"
cursor_path_in_response = "meta.next"
cursor_name_in_request = "cursor"
limit_name_in_request = "limit"
response_path = "data"
limit = 3
in_body = true
"""


def write_project(root: Path, url: str, connections: str, extra_pyproject: str = "") -> Path:
    (root / "functions/fake/actions").mkdir(parents=True, exist_ok=True)
    (root / "functions/fake/actions/call.py").write_text(CALL)
    (root / "fixtures").mkdir(exist_ok=True)
    (root / "cassettes").mkdir(exist_ok=True)
    (root / "fixtures/connections.yaml").write_text(textwrap.dedent(connections))
    (root / "pyproject.toml").write_text('[tool.harness]\nfunctions = "functions"\n' + PROVIDERS.format(url=url)
                                         + extra_pyproject)
    return root


def connection(provider: str, credentials: str, cid: str = "c1", extra: str = "") -> str:
    return f"""
connections:
  {cid}:
    integration: fake
    provider: {provider}
    credentials: {credentials}
{extra}"""


def run(root: Path, input: dict[str, Any], *, cid: str = "c1", clock: VirtualClock | None = None,
        **kwargs: Any) -> RunResult:
    from harness.secrets.redact import redaction_scope

    kwargs.setdefault("mode", "live")
    # These tests read back which credential was sent (the action returns it): they run as with
    # --show-secrets, which lifts the output redaction a result otherwise gets.
    with redaction_scope(show=True):
        return run_request(RunRequest("call", cid, project=load_project(root), input=input, clock=clock, **kwargs))

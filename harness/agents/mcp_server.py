"""Serving a set of tools over MCP with the official SDK (`mcp`, the `[mcp]` extra): stdio or streamable HTTP.

The tools themselves are plain `ToolSpec`s (see `agents.toolspec`) built elsewhere without the SDK; this
module is the only one that imports `mcp`, and only the `harness mcp` command imports it. Each call runs
its handler in a worker thread (the engine runs functions with `asyncio.run`, which cannot nest in the
server's event loop), one call at a time (a run freezes the process's clock and may replace cached
function modules), and turns every outcome into a tool result: nothing a handler raises reaches the
protocol layer as anything but a tool error.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server import Server, ServerRequestContext

from .. import __version__
from .toolspec import Answer, ToolSpec, call_safely


def _text(answer: Answer) -> str:
    if answer.text is not None:
        return answer.text
    return json.dumps(answer.data, indent=2, ensure_ascii=False)


def call_result(answer: Answer) -> types.CallToolResult:
    """The MCP tool result: the JSON as text (what a model reads) and as structured content."""
    structured = answer.data if isinstance(answer.data, dict) else None
    return types.CallToolResult(content=[types.TextContent(text=_text(answer))], structured_content=structured,
                                is_error=answer.is_error)


def build_server(name: str, tools: Sequence[ToolSpec], instructions: str | None = None) -> Server[Any]:
    by_name = {t.name: t for t in tools}
    lock = anyio.Lock()

    async def list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
                         ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[
            types.Tool(name=t.name, description=t.description, input_schema=t.input_schema,
                       output_schema=t.output_schema) for t in tools])

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
                        ) -> types.CallToolResult:
        spec = by_name.get(params.name)
        if spec is None:
            known = ", ".join(sorted(by_name)) or "none"
            return call_result(Answer({"error": {"type": "unknown_tool", "message": f"unknown tool {params.name!r}",
                                                 "known": sorted(by_name)}},
                                      is_error=True, text=f"unknown tool {params.name!r} (known tools: {known})"))
        arguments = dict(params.arguments or {})
        async with lock:
            answer = await anyio.to_thread.run_sync(call_safely, spec, arguments)
        return call_result(answer)

    return Server(name, version=__version__, instructions=instructions, on_list_tools=list_tools,
                  on_call_tool=call_tool)


def serve_stdio(server: Server[Any]) -> None:
    """Serve on stdin/stdout until the client closes stdin (the SDK points fd 1 at stderr meanwhile, so a
    function that prints cannot corrupt the protocol stream)."""
    from mcp.server.stdio import stdio_server

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def serve_http(server: Server[Any], host: str, port: int) -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp (port 0: any free port); the address goes to stderr."""
    import uvicorn

    app = server.streamable_http_app(host=host)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        from ..errors import UsageError

        raise UsageError(f"--http {port}: cannot listen on {host}:{port}: {exc.strerror}",
                         hint="pick another port, or 0 for any free one") from None
    sock.listen(64)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving MCP (streamable HTTP) on http://{shown}:{bound}/mcp", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])

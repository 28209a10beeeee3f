"""`harness serve`: the local Nango-compatible runtime (thin: options in, `harness.serve` does the rest)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import project_of


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=3003, show_default=True,
              help="Port to listen on (0 picks a free one; the ready line names it).")
@click.option("--live", is_flag=True, help="Call the providers with the connections' credentials (default: "
              "answer from the cassettes).")
@click.option("--allow-writes", is_flag=True, help="With --live: let runs send non-GET requests.")
@click.option("--secret-key", envvar="HARNESS_SERVE_SECRET_KEY", default=None, metavar="KEY",
              help="The key clients send as `Authorization: Bearer KEY` ($HARNESS_SERVE_SECRET_KEY; replay "
                   "without one generates a key and prints it).")
@click.option("--webhook-url", default=None, metavar="URL",
              help="POST Nango's webhooks (sync, async action, auth) here, signed with "
                   "$NANGO_WEBHOOK_SIGNING_KEY or else the secret key.")
@click.option("--no-schedule", is_flag=True, help="Run syncs only when triggered (no schedules).")
@click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The records database to keep (default: a fresh one per start in replay, "
                   ".harness/serve.sqlite with --live).")
@click.option("--otel-console", is_flag=True, help="Print OpenTelemetry spans on stderr (OTLP is used when "
              "OTEL_EXPORTER_OTLP_ENDPOINT is set).")
@click.option("--grace", type=click.FloatRange(min=0), default=10.0, show_default=True, metavar="SECONDS",
              help="On stop, how long runs in flight may take before they are interrupted.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, live: bool, allow_writes: bool, secret_key: str | None,
          webhook_url: str | None, no_schedule: bool, store: Path | None, otel_console: bool, grace: float) -> None:
    """Serve the project as a local Nango: point your app's Nango client at the printed URL.

    Replays provider calls from the cassettes unless --live. Stops cleanly on Ctrl-C or SIGTERM.
    """
    import secrets
    from urllib.parse import urlsplit

    from ..errors import ConfigError, UsageError

    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ConfigError("harness serve needs Starlette and uvicorn",
                          hint="pip install 'integration-harness[serve]'") from None
    from ..serve.config import ServeConfig, check_secret_key, signing_key_from_env
    from ..serve.runtime import Runtime
    from ..serve.server import bind
    from ..serve.server import serve as run_server

    if allow_writes and not live:
        raise UsageError("--allow-writes only applies to --live (a replay never calls the provider)",
                         hint="add --live, or drop --allow-writes")
    if webhook_url is not None:
        parts = urlsplit(webhook_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--webhook-url: {webhook_url!r} is not an http(s) URL",
                             hint="e.g. --webhook-url http://127.0.0.1:8000/nango-webhooks")
    if secret_key is None:
        if live:
            raise UsageError("--live needs --secret-key (or $HARNESS_SERVE_SECRET_KEY): the API hands out the "
                             "connections' credentials", hint="choose a key and give the same one to your app")
        secret_key = "harness-" + secrets.token_hex(16)
        click.echo(f"harness serve: no --secret-key given; clients must send `Authorization: Bearer {secret_key}`",
                   err=True)
    config = ServeConfig(secret_key=check_secret_key(secret_key), host=host, port=port, live=live,
                         allow_writes=allow_writes, webhook_url=webhook_url, signing_key=signing_key_from_env(),
                         schedule=not no_schedule, store=store.resolve() if store else None,
                         otel_console=otel_console, grace_s=grace)
    project = project_of(ctx)
    sock = bind(host, port)  # before anything else: a port in use is a one-line error
    try:
        runtime = Runtime(project, config)
    except BaseException:
        sock.close()
        raise
    for problem in runtime.registry.catalog.problems:
        click.echo(f"warning: skipped {problem}", err=True)
    run_server(runtime, sock)

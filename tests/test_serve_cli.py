"""`harness serve`'s options: refused before anything starts, one line each, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result


@pytest.mark.parametrize(("args", "message"), [
    (["--allow-writes"], "error: --allow-writes only applies to --live (a replay never calls the provider) "
                         "(add --live, or drop --allow-writes)"),
    (["--live"], "error: --live needs --secret-key (or $HARNESS_SERVE_SECRET_KEY): the API hands out the "
                 "connections' credentials (choose a key and give the same one to your app)"),
    (["--webhook-url", "localhost:8000/hooks", "--secret-key", "k"],
     "error: --webhook-url: 'localhost:8000/hooks' is not an http(s) URL (e.g. --webhook-url "
     "http://127.0.0.1:8000/nango-webhooks)"),
    (["--secret-key", "two words"], "error: the secret key must be a non-empty string without spaces (pass "
                                    "--secret-key KEY or set $HARNESS_SERVE_SECRET_KEY)"),
    (["--host", "256.1.1.1", "--secret-key", "k"], "error: cannot listen on 256.1.1.1:3003"),
])
def test_bad_options(cli: Callable[..., Result], example: Path, args: list[str], message: str) -> None:
    result = cli(example, "serve", *args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().startswith(message) and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_broken_project_is_refused(cli: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "connections.yaml").write_text("connections: [1, 2\n")
    result = cli(tmp_path, "serve", "--secret-key", "k", "--port", "0")
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_a_store_that_is_not_a_database_is_refused(cli: Callable[..., Result], example: Path,
                                                    tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database, " * 100)
    result = cli(example, "serve", "--secret-key", "k", "--port", "0", "--store", str(bogus))
    # The records store's own error (exit 5), as every command that opens a damaged store reports it.
    assert result.exit_code == 5 and result.output.startswith(f"error: the records store {bogus} failed")
    assert bogus.read_text() == "not a database, " * 100


def test_help(cli: Callable[..., Result], example: Path) -> None:
    result = cli(example, "serve", "--help")
    assert result.exit_code == 0
    for option in ("--host", "--port", "--live", "--allow-writes", "--secret-key", "--webhook-url",
                   "--no-schedule", "--store", "--otel-console", "--grace"):
        assert option in result.output
    assert "serve" in cli(example, "--help").output

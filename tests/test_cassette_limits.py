"""Hostile and broken cassettes: each is exit 3 naming the file (and the interaction or key), within
bounded time and memory, nothing written; never an internal error, a hang, or a failure blamed on the
function. The crafted cases of issue 12 are among them."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from harness.cassettes.format import load_cassette
from harness.cassettes.limits import MAX_ALIAS_NODES, MAX_VALUE_DEPTH
from harness.errors import CassetteError
from tests.conftest import REPO, files_under

ISSUES = "cassettes/github/issues/default.yaml"
SEED = (REPO / ISSUES).read_text(encoding="utf-8")


def seed() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SEED)
    return data


def bomb(levels: int = 9) -> str:
    """A billion-laughs value in flow style: 9 levels of 9 aliases each (9**9 = 387 million strings)."""
    parts = ['&a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    parts += [f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "[" + ", ".join(parts) + "]"


def replay(cli: Callable[..., Result], project: Path, text: str | bytes, *args: str) -> Result:
    path = project / ISSUES
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return cli(project, "dryrun", "issues", "demo", "--replay", *args)


def cassette_error(res: Result) -> str:
    assert res.exit_code == 3, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    assert "default.yaml" in errors[0]
    return errors[0]


def with_context(**values: str) -> str:
    """The seed cassette with raw YAML values put in its `harness:` section."""
    lines = "".join(f"  {key}: {value}\n" for key, value in values.items())
    return SEED.replace("harness:\n  format: 1\n", "harness:\n  format: 1\n" + lines, 1)


@pytest.mark.parametrize("key", ["metadata", "checkpoint", "input"])
def test_an_alias_bomb_in_the_harness_section_is_refused_before_it_is_built(
        example: Path, cli: Callable[..., Result], key: str) -> None:
    before = files_under(example)
    line = cassette_error(replay(cli, example, with_context(**{key: bomb()})))
    assert f"harness.{key}: its YAML aliases expand to" in line and f"at most {MAX_ALIAS_NODES:,} more" in line
    assert files_under(example) == before


def test_an_alias_bomb_as_a_response_header_names_the_interaction(example: Path, cli: Callable[..., Result]) -> None:
    data = seed()
    data["interactions"][1]["response"]["headers"]["x-bomb"] = "BOMB"
    text = yaml.safe_dump(data, sort_keys=False).replace("x-bomb: BOMB", "x-bomb: " + bomb())
    line = cassette_error(replay(cli, example, text))
    assert "interaction #1: its YAML aliases expand to" in line


def test_a_bomb_of_long_strings_is_measured_in_characters(tmp_path: Path) -> None:
    long = "x" * 100_000
    text = f"interactions: []\nharness:\n  metadata: [&s '{long}', " + ", ".join(["*s"] * 200) + "]\n"
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CassetteError, match=r"harness.metadata: its YAML aliases expand to [0-9,]+ characters of "
                                            r"text, 20,000,000 more"):
        load_cassette(path)


def test_aliases_within_the_limits_are_read_as_separate_copies(tmp_path: Path) -> None:
    # vcrpy's YAML dumper writes anchors for repeated objects (`&id001`): those cassettes must load.
    text = textwrap.dedent("""\
        harness: {metadata: {a: &id001 {owner: octocat, tags: [x]}, b: *id001}}
        interactions:
        - request: {method: GET, uri: 'https://api.example.com/x', body: null, headers: &h {Accept: ['*/*']}}
          response: {status: {code: 200, message: OK}, headers: *h, body: {string: 'ok'}}
        version: 1
        """)
    path = tmp_path / "c.yaml"
    path.write_text(text)
    c = load_cassette(path)
    meta = c.context["metadata"]
    assert meta == {"a": {"owner": "octocat", "tags": ["x"]}, "b": {"owner": "octocat", "tags": ["x"]}}
    meta["a"]["tags"].append("y")
    assert meta["b"]["tags"] == ["x"]  # a function changing one must not change the other
    assert c.interactions[0].response_headers == {"Accept": ["*/*"]}


def test_an_anchor_that_contains_itself_is_refused(example: Path, cli: Callable[..., Result]) -> None:
    line = cassette_error(replay(cli, example, with_context(metadata="&m [*m]")))
    assert "an alias refers to the anchor that contains it" in line
    line = cassette_error(replay(cli, example, with_context(metadata="&m {a: {b: *m}}")))
    assert "an alias refers to the anchor that contains it" in line


def test_a_merge_key_cycle_is_refused(example: Path, cli: Callable[..., Result]) -> None:
    line = cassette_error(replay(cli, example, with_context(metadata="&m {<<: *m, a: 1}")))
    assert "contains it" in line


def test_a_100000_deep_pretty_json_body_is_exit_3(example: Path, cli: Callable[..., Result]) -> None:
    data = seed()
    data["interactions"][0]["response"]["body"]["string"] = "[" * 100_000 + "]" * 100_000
    data["interactions"][0]["harness"] = {"pretty": "compact"}
    line = cassette_error(replay(cli, example, yaml.safe_dump(data)))
    assert "interaction #0: its response body (marked `pretty`) nests too deep to read" in line


def test_yaml_nested_past_libyaml_limit_is_exit_3(example: Path, cli: Callable[..., Result]) -> None:
    line = cassette_error(replay(cli, example, with_context(metadata="[" * 5000 + "]" * 5000)))
    assert "exceeded maximum nesting depth (at most 1,000 levels)" in line
    # Aliases cannot get round it: a chain of 1,200 anchors, each one level deeper than the last.
    chain = "[&d0 [x]" + "".join(f", &d{i} [*d{i - 1}]" for i in range(1, 1200)) + "]"
    line = cassette_error(replay(cli, example, with_context(metadata=chain)))
    assert "levels deep once its aliases are expanded (at most 1,000)" in line


def test_values_harness_reads_are_held_to_100_levels(example: Path, cli: Callable[..., Result]) -> None:
    deep = "[" * (MAX_VALUE_DEPTH + 5) + "]" * (MAX_VALUE_DEPTH + 5)
    line = cassette_error(replay(cli, example, with_context(metadata=deep)))
    assert f"harness.metadata[0][0][0]...({MAX_VALUE_DEPTH - 6} levels)...[0][0][0]" in line
    assert f"nests more than {MAX_VALUE_DEPTH} levels deep" in line


def test_a_request_body_stored_as_a_mapping_matches_as_json(example: Path, cli: Callable[..., Result]) -> None:
    # vcrpy's aiohttp stub stores a `json=` body as a mapping (its keys sorted).
    path = example / "cassettes/github/create-issue/default.yaml"
    data = yaml.safe_load(path.read_text())
    stored = json.loads(data["interactions"][0]["request"]["body"])
    data["interactions"][0]["request"]["body"] = dict(sorted(stored.items()))
    path.write_text(yaml.safe_dump(data))
    res = cli(example, "dryrun", "create-issue", "demo", "--replay", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "success"


def test_non_ascii_header_values_replay_to_the_function(make_project: Callable[..., Path],
                                                        cli: Callable[..., Result]) -> None:
    proj = make_project({"api/syncs/notes.py": '''
        from pydantic import BaseModel
        from harness import sync

        class Note(BaseModel):
            id: str
            text: str

        @sync(models=[Note], frequency="every hour")
        async def notes(nango):
            resp = await nango.get("/notes")
            await nango.batch_save([Note(id="1", text=resp.headers["x-note"] + "|" + resp.text)], Note)
        '''}, connections="connections:\n  c1: {provider: github, integration: api, base_url: 'https://api.example.com'}\n")
    path = proj / "cassettes/api/notes/default.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(textwrap.dedent("""\
        interactions:
        - request: {method: GET, uri: 'https://api.example.com/notes', body: null, headers: {}}
          response:
            status: {code: 200, message: OK}
            headers: {x-note: ['café ☕ 日本'], X-Ünicode-Name: [ok]}
            body: {string: "bien sûr"}
        version: 1
        """), encoding="utf-8")
    res = cli(proj, "dryrun", "notes", "c1", "--replay", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["records"]["Note"]["saved"][0]["text"] == "café ☕ 日本|bien sûr"


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["interactions"][0]["request"].update(uri="http://[::1/repos"), "interaction #0: its uri"),
    (lambda d: d["interactions"][0]["response"].update(status={"code": "abc"}), "interaction #0: the response status"),
    (lambda d: d["interactions"][0]["response"].update(status={"code": 42}), "HTTP status code (100-999)"),
    (lambda d: d["interactions"][0]["response"]["headers"].update(x={"a": 1}), "response headers x must be text"),
    (lambda d: d["interactions"][0]["response"].update(headers=[1, 2]), "[name, value] pairs"),
    (lambda d: d["interactions"][0]["request"].update(method=["GET"]), "the request method must be a word"),
    (lambda d: d["interactions"][0].pop("response"), "interaction #0: its response must be a mapping"),
    (lambda d: d["interactions"][0]["response"]["body"].update(string={"a": 1}), "body must be text or bytes"),
    (lambda d: d["interactions"].insert(0, "nope"), "interaction #0: an interaction must be a mapping"),
    (lambda d: d["interactions"][0].update(harness=[1]), "`harness:` section must be a mapping"),
    (lambda d: d["harness"].update(connection=[1]), "harness.connection: must be a mapping"),
    (lambda d: d["harness"]["connection"].update(credentials="x"), "harness.connection.credentials: must be a mapping"),
    (lambda d: d["harness"].update(function={"a": 1}), "harness.function: must be text"),
    (lambda d: d["harness"].update(run=0), "harness.run: must be a run number"),
    (lambda d: d["harness"].update(faults="429@1"), "harness.faults: must be a list"),
    (lambda d: d["harness"].update(faults=["zzz"]), "harness.faults: cannot read fault 'zzz'"),
    (lambda d: d["harness"].update(recorded_at="yesterday"), "harness.recorded_at: 'yesterday' is not an ISO 8601"),
    (lambda d: d["harness"].update(recorded_at="0001-01-01T00:00:00Z"), "outside the years 1970 to 9998"),
    (lambda d: d["harness"].update(metadata={"blob": b"\x00\x01"}), "harness.metadata.blob: must be JSON-like data"),
    (lambda d: d["harness"].update(format=2), "cassette format 2 is not supported"),
    (lambda d: d.update(harness=[1]), "the `harness:` section must be a mapping"),
])
def test_bad_fields_are_one_line_errors_naming_where(example: Path, cli: Callable[..., Result],
                                                     change: Callable[[dict[str, Any]], Any], expected: str) -> None:
    data = seed()
    change(data)
    before = files_under(example)
    line = cassette_error(replay(cli, example, yaml.safe_dump(data, allow_unicode=True)))
    assert expected in line, line
    assert files_under(example) == before


@pytest.mark.parametrize(("text", "expected"), [
    ("interactions: [\n  - {request: \n", "not valid YAML"),
    (SEED.replace("harness:\n  format: 1\n", "harness:\n  format: 1\n  checkpoint: 2020-13-01\n"), "month must be in"),
    ("--- {}\n--- {}\n", "another document"),
    (with_context(checkpoint="9" * 5000), "Exceeds the limit (4300 digits)"),
    ("[1, 2]\n", "not a cassette"),
    ("harness: !!python/object/apply:os.system ['touch PWNED']\ninteractions: []\n", "python/object/apply:os.system"),
    ("interactions: !!set {a: null}\n", "not a cassette"),
    ("\ufeff" + SEED, None),
    (SEED.replace("\n", "\r\n"), None),
])
def test_odd_yaml(example: Path, cli: Callable[..., Result], text: str, expected: str | None) -> None:
    res = replay(cli, example, text)
    if expected is None:
        assert res.exit_code == 0, res.output
    else:
        assert expected in cassette_error(res)
    assert not (example / "PWNED").exists() and not Path("PWNED").exists()


def test_not_utf8_names_the_line(example: Path, cli: Callable[..., Result]) -> None:
    line = cassette_error(replay(cli, example, SEED.encode().replace(b"Issue 2", b"Issue \xff")))
    assert "not UTF-8 text" in line


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero")
def test_a_fifo_or_a_device_is_refused_without_reading_it(example: Path, cli: Callable[..., Result]) -> None:
    path = example / ISSUES
    path.unlink()
    os.mkfifo(path)  # opening it for reading would wait for a writer forever
    assert "not a regular file" in cassette_error(cli(example, "dryrun", "issues", "demo", "--replay"))
    path.unlink()
    path.symlink_to("/dev/zero")  # reading it would never end
    assert "not a regular file" in cassette_error(cli(example, "dryrun", "issues", "demo", "--replay"))
    path.unlink()
    path.mkdir()  # a folder opens for reading on Linux: it used to end in an internal error (exit 70)
    assert "not a regular file" in cassette_error(cli(example, "dryrun", "issues", "demo", "--replay"))


def test_the_size_limit_is_checked_before_reading(example: Path, cli: Callable[..., Result],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_CASSETTE_MAX_MB", "0.001")
    line = cassette_error(cli(example, "dryrun", "issues", "demo", "--replay"))
    assert "MB is more than a cassette may hold (0.001 MB)" in line and "HARNESS_CASSETTE_MAX_MB" in line
    monkeypatch.setenv("HARNESS_CASSETTE_MAX_MB", "lots")
    assert "is not a size in MB" in cassette_error(cli(example, "dryrun", "issues", "demo", "--replay"))
    monkeypatch.setenv("HARNESS_CASSETTE_MAX_MB", "50")
    assert cli(example, "dryrun", "issues", "demo", "--replay").exit_code == 0


def test_a_gzip_bomb_body_is_refused_within_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    monkeypatch.setenv("HARNESS_CASSETTE_MAX_MB", "1")
    data = {"interactions": [{"request": {"method": "GET", "uri": "https://x/", "body": None, "headers": {}},
                              "response": {"status": {"code": 200, "message": "OK"},
                                           "headers": {"Content-Encoding": ["gzip"]},
                                           "body": {"string": gzip.compress(b"\0" * 5_000_000)}}}], "version": 1}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    assert path.stat().st_size < 20_000
    with pytest.raises(CassetteError, match=r"interaction #0: its gzip body decompresses to more than"):
        load_cassette(path)


def test_a_bomb_under_pytest_fails_the_scenario_instead_of_hanging(example: Path,
                                                                    pytester: pytest.Pytester) -> None:
    (example / ISSUES).write_text(with_context(metadata=bomb()))
    pytester.chdir()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--rootdir", str(example), str(example),
                                          "-q", "-k", "issues")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*harness.metadata: its YAML aliases expand to*"])

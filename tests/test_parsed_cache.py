"""The parsed-cassette cache: an unchanged cassette replays without parsing YAML; a stale, corrupt or foreign
cache is never trusted; a cache that cannot be written changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.cassettes import format as cassette_format
from harness.cassettes import parsed_cache
from harness.cassettes.format import load_cassette
from harness.pipeline import RunRequest, run_request
from harness.project import load_project

CASSETTE = "cassettes/github/issues/default.yaml"


@pytest.fixture
def cache_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    # The example's cassettes are small; the threshold only exists to spare small files the write.
    monkeypatch.setattr(parsed_cache, "MIN_BYTES", 0)


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []

    def refuse(text: str, where: str, loader: Any) -> Any:
        parsed.append(where)
        raise AssertionError(f"YAML parsed: {where}")

    monkeypatch.setattr(cassette_format, "parse_yaml", refuse)
    return parsed


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    for log in doc["logs"]:
        log.pop("at_ms")
    return doc


def test_a_replay_of_an_unchanged_cassette_reads_the_cache_not_the_yaml(
        example: Path, cache_everything: None, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load_project(example)
    first = run_request(RunRequest("issues", "demo", project=project))
    cached = list((example / ".harness/cache/cassettes").iterdir())
    assert len(cached) == 1 and cached[0].suffix == ".marshal"
    parsed = _no_yaml(monkeypatch)
    second = run_request(RunRequest("issues", "demo", project=project))
    assert parsed == []
    assert _comparable(second.to_json(timings=False)) == _comparable(first.to_json(timings=False))
    assert list((example / ".harness/cache/cassettes").iterdir()) == cached


def test_the_cached_parse_is_the_parse(example: Path, cache_everything: None) -> None:
    path, cache = example / CASSETTE, example / ".harness/cache"
    plain = load_cassette(path)
    load_cassette(path, cache)
    warm = load_cassette(path, cache)
    assert warm.interactions == plain.interactions and warm.context == plain.context and warm.path == path


def test_an_edited_cassette_is_parsed_again(example: Path, cache_everything: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path, cache = example / CASSETTE, example / ".harness/cache"
    load_cassette(path, cache)
    text = path.read_text(encoding="utf-8")
    assert "code: 200" in text
    path.write_text(text.replace("code: 200", "code: 203", 1), encoding="utf-8")
    fresh = load_cassette(path, cache)
    assert fresh.interactions[0].status == 203
    parsed = _no_yaml(monkeypatch)
    assert load_cassette(path, cache).interactions[0].status == 203  # the new parse was cached in turn
    assert parsed == []


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "foreign loader", "other format", "empty",
                                    "not a cache", "layout"])
def test_a_corrupt_or_foreign_cache_is_never_trusted(example: Path, cache_everything: None, damage: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path, cache = example / CASSETTE, example / ".harness/cache"
    plain = load_cassette(path)
    load_cassette(path, cache)
    file = parsed_cache.cache_file(cache, path)
    blob = file.read_bytes()
    head, _, payload = blob.partition(b"\n")[2].partition(b"\n")
    magic = blob[:blob.index(b"\n") + 1]
    if damage == "truncated":
        blob = blob[:-10]
    elif damage == "flipped byte":
        # Same length, same header: only the payload digest can tell.
        blob = blob[:-5] + bytes([blob[-5] ^ 0x01]) + blob[-4:]
    elif damage == "foreign loader":
        blob = magic + head.replace(b'"loader":"', b'"loader":"0') + b"\n" + payload
    elif damage == "other format":
        blob = magic + head.replace(f'"format":{parsed_cache.CACHE_FORMAT}'.encode(), b'"format":99') + b"\n" + payload
    elif damage == "empty":
        blob = b""
    elif damage == "layout":
        # The header's own fields: the payload's digest does not cover them, the layout's does.
        count = int(head.split(b'"count":')[1].split(b",")[0])
        blob = magic + head.replace(b'"count":%d' % count, b'"count":%d' % (count + 1)) + b"\n" + payload
    else:
        blob = b"interactions: []\n"
    assert blob != file.read_bytes()
    file.write_bytes(blob)
    assert load_cassette(path, cache).interactions == plain.interactions
    # ...and the copy is rewritten, so the next load is warm again.
    parsed = _no_yaml(monkeypatch)
    assert load_cassette(path, cache).interactions == plain.interactions
    assert parsed == []


def test_an_unwritable_cache_changes_nothing(example: Path, cache_everything: None) -> None:
    path = example / CASSETTE
    blocker = example / ".harness"
    blocker.write_text("a file where the cache folder would go")
    assert load_cassette(path, blocker / "cache").interactions == load_cassette(path).interactions
    assert blocker.read_text() == "a file where the cache folder would go"


def test_small_cassettes_are_not_cached(example: Path) -> None:
    run_request(RunRequest("issues", "demo", project=load_project(example)))
    assert not (example / ".harness/cache").exists()


def test_a_bad_cassette_is_still_reported_with_a_cache(example: Path, cache_everything: None) -> None:
    path, cache = example / CASSETTE, example / ".harness/cache"
    load_cassette(path, cache)
    path.write_text("interactions: {not: a list}\n", encoding="utf-8")
    with pytest.raises(cassette_format.CassetteError, match="not a cassette"):
        load_cassette(path, cache)


def test_a_cache_hit_hashes_the_file_without_holding_its_bytes(
        example: Path, cache_everything: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The file's bytes beside the cache's and the parse were most of a big replay's peak memory: a hit
    # streams the file through the hash instead of reading it whole.
    path = example / CASSETTE
    first = load_cassette(path, cache_dir=example / ".harness/cache")

    def whole(p: Path) -> bytes:
        raise AssertionError(f"read whole: {p}")

    monkeypatch.setattr(cassette_format, "read_open", lambda fh, p: whole(p))
    again = load_cassette(path, cache_dir=example / ".harness/cache")
    assert again.interactions == first.interactions and again.context == first.context
    # A changed file misses the cache, and is then read whole (and parsed).
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(AssertionError, match="read whole"):
        load_cassette(path, cache_dir=example / ".harness/cache")


def test_a_bad_size_limit_is_still_the_one_line_error_naming_the_file(
        example: Path, cache_everything: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import CassetteError

    load_cassette(example / CASSETTE, cache_dir=example / ".harness/cache")
    monkeypatch.setenv("HARNESS_CASSETTE_MAX_MB", "lots")
    with pytest.raises(CassetteError) as caught:
        load_cassette(example / CASSETTE, cache_dir=example / ".harness/cache")
    assert str(example / CASSETTE) in caught.value.message

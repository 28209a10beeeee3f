"""A cache hit's interactions are read a chunk at a time (`harness.cassettes.lazy`): the index reads no
response, an in-order replay holds about one chunk, the sequence behaves as the list it replaces, and a
cache file changed under a running replay is a one-line cassette error, never a wrong answer."""

from __future__ import annotations

import contextlib
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from harness.cassettes import parsed_cache
from harness.cassettes.format import Cassette, Interaction, load_cassette, write_cassette
from harness.cassettes.lazy import LazyInteractions
from harness.cassettes.matching import InteractionIndex
from harness.errors import CassetteError
from harness.pipeline import RunRequest, run_request
from harness.project import load_project
from harness.secrets.scrubber import Scrubber

BASE = "https://api.example.com"
PAGES = 23

SYNC = '''
from pydantic import BaseModel
from harness import sync

class Item(BaseModel):
    id: str
    name: str

@sync(models=[Item])
async def items(nango):
    async for page in nango.paginate("/items", params={"page": 1},
                                     paginate={"type": "link", "link_rel_in_response_header": "next"}):
        await nango.batch_save([Item(**r) for r in page], "Item")
'''


@pytest.fixture
def chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsed_cache, "MIN_BYTES", 0)
    monkeypatch.setattr(parsed_cache, "CHUNK_ROWS", 4)  # 23 interactions: 6 chunks, the last one short


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "functions/shop/syncs").mkdir(parents=True)
    (root / "functions/shop/syncs/items.py").write_text(textwrap.dedent(SYNC))
    (root / "pyproject.toml").write_text('[tool.harness]\nfunctions = "functions"\ncassettes = "cassettes"\n')
    interactions = []
    for page in range(1, PAGES + 1):
        rows = [{"id": f"{page:03d}{i}", "name": f"é {page}-{i}"} for i in range(3)]
        headers = {"content-type": ["application/json"]}
        if page < PAGES:
            headers["link"] = [f'<{BASE}/items?page={page + 1}>; rel="next"']
        interactions.append(Interaction("GET", f"{BASE}/items?page={page}", {}, None, 200, "OK", headers,
                                        json.dumps(rows)))
    context = {"function": "items", "integration": "shop", "type": "sync", "scenario": "default",
               "connection": {"connection_id": "c1", "provider": "shop", "integration": "shop", "base_url": BASE,
                              "credentials": {"type": "NONE"}}}
    write_cassette(root / "cassettes/shop/items/default.yaml", Cassette(interactions, context), Scrubber({}))
    return root


def _cassette(project: Path) -> Path:
    return project / "cassettes/shop/items/default.yaml"


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {"responses": [], "held": 0}
    real = parsed_cache.CachedParse.responses

    def responses(self: parsed_cache.CachedParse, chunk: int) -> list[tuple[Any, ...]]:
        seen["responses"].append(chunk)
        return real(self, chunk)

    monkeypatch.setattr(parsed_cache.CachedParse, "responses", responses)
    real_chunk = LazyInteractions._chunk

    def chunk(self: LazyInteractions[Any], c: int) -> list[Any]:
        seen["held"] = max(seen["held"], len(self._loaded) + 1)
        return real_chunk(self, c)

    monkeypatch.setattr(LazyInteractions, "_chunk", chunk)
    return seen


def test_a_cache_hit_is_the_parse_read_a_chunk_at_a_time(project: Path, chunked: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path, cache = _cassette(project), project / ".harness/cache"
    plain = load_cassette(path)
    assert isinstance(load_cassette(path, cache).interactions, list)  # the miss parses, and writes the cache
    seen = _counting(monkeypatch)
    warm = load_cassette(path, cache).interactions
    assert isinstance(warm, LazyInteractions) and seen["responses"] == []
    assert len(warm) == PAGES and warm == plain.interactions and list(warm) == plain.interactions
    assert warm[-1] == plain.interactions[-1] and warm[3:6] == plain.interactions[3:6]
    index = InteractionIndex(warm)
    assert index.keys == InteractionIndex(plain.interactions).keys
    with pytest.raises(IndexError):
        warm[PAGES]
    with pytest.raises(TypeError):
        del warm[0]
    with pytest.raises(TypeError):
        warm.insert(0, plain.interactions[0])


def test_a_chunk_is_let_go_once_each_of_its_interactions_is_replaced(project: Path, chunked: None) -> None:
    path, cache = _cassette(project), project / ".harness/cache"
    plain = load_cassette(path).interactions
    load_cassette(path, cache)
    warm = load_cassette(path, cache).interactions
    assert isinstance(warm, LazyInteractions)
    marker = Interaction("", "", {}, None, 0, "", {}, b"")
    for n in (5, 1, 0, 2):  # out of order: a chunk stays held while one of its interactions is left
        assert warm[n] == plain[n]
        warm[n] = marker
    assert set(warm._loaded) == {0, 1}
    warm[3] = marker  # chunk 0's last
    warm[3] = marker  # replacing one twice counts once
    assert set(warm._loaded) == {1} and warm[3] is marker and warm[4] == plain[4]
    assert [item is marker for item in warm][:7] == [True, True, True, True, False, True, False]


def test_an_in_order_replay_holds_one_chunk_and_answers_as_the_yaml(project: Path, chunked: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = run_request(RunRequest("items", "c1", project=load_project(project), mode="replay"))
    assert first.ok, first.error
    seen = _counting(monkeypatch)
    second = run_request(RunRequest("items", "c1", project=load_project(project), mode="replay"))
    assert second.ok, second.error
    assert seen["responses"] == list(range(6)) and seen["held"] == 1  # each chunk read once, one at a time
    assert second.records("Item") == first.records("Item") and len(first.records("Item")) == PAGES * 3
    assert [r.url for r in second.requests] == [r.url for r in first.requests]


def test_a_cache_changed_under_a_replay_is_a_cassette_error(project: Path, chunked: None) -> None:
    path, cache = _cassette(project), project / ".harness/cache"
    load_cassette(path, cache)
    warm = load_cassette(path, cache).interactions
    assert isinstance(warm, LazyInteractions)
    assert warm[0].status == 200
    file = parsed_cache.cache_file(cache, path)
    data = bytearray(file.read_bytes())
    data[-3] ^= 0x01  # the last chunk's responses, in place (not an atomic replace: the same file)
    with file.open("r+b") as fh:
        fh.write(data)
    with pytest.raises(CassetteError, match="changed while it was read") as caught:
        warm[PAGES - 1]
    assert isinstance(caught.value, parsed_cache.CacheChanged) and "\n" not in str(caught.value)
    # The next load does not trust it: the payload's digest fails, the YAML is parsed and the cache rewritten.
    assert load_cassette(path, cache).interactions == load_cassette(path).interactions


def _open_files() -> set[str]:
    fds = Path("/proc/self/fd")
    out = set()
    for fd in fds.iterdir() if fds.is_dir() else ():
        with contextlib.suppress(OSError):
            out.add(str(fd.readlink()))
    return out


def test_a_replay_lets_go_of_the_cache_file_and_a_rewrite_never_changes_what_a_reader_reads(
        project: Path, chunked: None) -> None:
    path, cache = _cassette(project), project / ".harness/cache"
    run_request(RunRequest("items", "c1", project=load_project(project), mode="replay"))  # writes the cache
    file = str(parsed_cache.cache_file(cache, path))
    for _ in range(3):
        assert run_request(RunRequest("items", "c1", project=load_project(project), mode="replay")).ok
    if Path("/proc/self/fd").is_dir():
        assert not any(name.startswith(file) for name in _open_files())  # each replay closed it
    # Another process rewrites the cache (atomically, as harness does) while this one still reads its copy.
    plain = load_cassette(path).interactions
    warm = load_cassette(path, cache)
    assert isinstance(warm.interactions, LazyInteractions) and warm.interactions[0] == plain[0]
    edited = path.read_text(encoding="utf-8").replace("code: 200", "code: 201")
    path.write_text(edited, encoding="utf-8")
    assert load_cassette(path, cache).interactions[PAGES - 1].status == 201  # parsed again, cache rewritten
    assert list(warm.interactions) == plain  # the reader's file is the one it opened
    warm.close()
    with pytest.raises(CassetteError, match="let go of it"):
        list(warm.interactions)


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_something_else_in_place_of_the_cache_file_is_no_cache(project: Path, chunked: None, kind: str) -> None:
    import os

    path, cache = _cassette(project), project / ".harness/cache"
    file = parsed_cache.cache_file(cache, path)
    file.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(file)  # opening it for reading would wait for a writer forever
    else:
        file.mkdir()
    loaded = load_cassette(path, cache)  # parsed from the YAML; the copy cannot be written there either
    assert isinstance(loaded.interactions, list) and loaded.interactions == load_cassette(path).interactions

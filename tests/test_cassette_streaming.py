"""A recording is written an interaction at a time (bounded memory for big recordings, issue 12 point 8):
the same text as a whole dump, every piece scanned for secrets before it reaches the file, and a refusal
that leaves nothing behind and still counts every place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from harness.cassettes.format import Cassette, Interaction, dump_cassette, load_cassette, write_cassette
from harness.errors import SecretLeakError
from harness.secrets.scrubber import Scrubber
from tests.conftest import REPO

TOKEN = "tok_stream_5b0e9a71c2"


def _interaction(n: int, body: str) -> Interaction:
    return Interaction("GET", f"https://api.example.com/items?page={n}", {"accept": ["application/json"]}, None,
                       200, "OK", {"content-type": ["application/json"]}, body)


@pytest.mark.parametrize("cassette", sorted(str(p.relative_to(REPO)) for p in (REPO / "cassettes").rglob("*.yaml")))
def test_written_piece_by_piece_is_the_text_of_a_whole_dump(cassette: str, tmp_path: Path) -> None:
    loaded = load_cassette(REPO / cassette)
    target = tmp_path / "out.yaml"
    write_cassette(target, loaded, Scrubber({}))
    assert target.read_text(encoding="utf-8") == dump_cassette(loaded)
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["version"] == 1  # vcrpy's reader sees a v1 file


def test_an_empty_recording_is_written_as_vcrpy_writes_it(tmp_path: Path) -> None:
    target = tmp_path / "empty.yaml"
    write_cassette(target, Cassette([], {"function": "f"}), Scrubber({}))
    assert target.read_text() == dump_cassette(Cassette([], {"function": "f"}))
    assert "interactions: []\n" in target.read_text()


def test_a_secret_in_a_late_interaction_refuses_the_whole_file_and_counts_every_place(tmp_path: Path) -> None:
    target = tmp_path / "cassettes" / "x.yaml"
    target.parent.mkdir()
    target.write_text("the previous recording\n")
    pages = [_interaction(n, '{"items": [1, 2]}') for n in range(5)]
    pages[2] = _interaction(2, f'{{"token": "{TOKEN}"}}')
    pages[4] = _interaction(4, f'{{"again": "{TOKEN}"}}')
    with pytest.raises(SecretLeakError) as caught:
        write_cassette(target, Cassette(pages, {}), Scrubber({"access_token": TOKEN}))
    message = str(caught.value)
    assert "interaction #2 response" in message and "(and 1 more place(s))" in message
    # The previous file is untouched and no piece of the refused one is left beside it.
    assert target.read_text() == "the previous recording\n"
    assert os.listdir(target.parent) == ["x.yaml"]

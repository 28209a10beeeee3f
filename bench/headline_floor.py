"""The headline's floor: only the irreducible work of its scenario, on the same files, in a cold process.

Run by `bench/headline.py` as a child (its CPU time and peak RSS are read from the parent's `wait4`):

  1. parse the cassette with libyaml's C loader (`yaml.CSafeLoader`),
  2. answer every request through httpx's own client with a prebuilt response (`httpx.MockTransport`, a dict
     lookup: what httpx costs per request),
  3. decode each body (`response.json()`),
  4. validate every record into the sync's pydantic model, as the sync does (keyword construction),
  5. one C `json` encode of the records sorted by id (the snapshot's content), compared with the stored
     file's text; with `--parse-stored` the stored snapshot is also parsed (`json.loads`) and compared as
     data (what any comparison of a reformatted or mismatching file needs). The comparison's answer is not
     the point (the stored file is harness's document); its cost is.

With `--cache FILE` step 1 reads the parse from a marshal of its plain data instead (`--write-cache FILE`
writes it and stops): the floor once the YAML parse is cached, as harness's parsed-cassette cache does.

    python bench/headline_floor.py CASSETTE SNAPSHOT [--parse-stored] [--cache FILE | --write-cache FILE]
"""

from __future__ import annotations

import asyncio
import gc
import json
import marshal
import sys
from pathlib import Path

import httpx
import yaml
from pydantic import BaseModel


class Item(BaseModel):
    id: str
    name: str
    price: float
    updated_at: str


def main() -> None:
    cassette, snapshot = Path(sys.argv[1]), Path(sys.argv[2])
    # The collector would re-walk the growing document again and again; pausing it is part of any fast parse.
    gc.disable()
    if "--cache" in sys.argv:
        data = marshal.loads(Path(sys.argv[sys.argv.index("--cache") + 1]).read_bytes())
    else:
        data = yaml.load(cassette.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    gc.enable()
    if "--write-cache" in sys.argv:
        Path(sys.argv[sys.argv.index("--write-cache") + 1]).write_bytes(marshal.dumps(data))
        return
    responses: dict[str, bytes] = {}
    links: dict[str, str] = {}
    for item in data["interactions"]:
        uri = item["request"]["uri"]
        responses[uri] = item["response"]["body"]["string"].encode("utf-8")
        link = item["response"]["headers"].get("link")
        if link:
            links[uri] = link[0]

    def answer(request: httpx.Request) -> httpx.Response:
        uri = str(request.url)
        headers = {"link": links[uri]} if uri in links else {}
        return httpx.Response(200, content=responses[uri], headers=headers)

    async def run() -> list[Item]:
        items: list[Item] = []
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
            url: str | None = data["interactions"][0]["request"]["uri"]
            while url is not None:
                response = await client.get(url)
                items.extend(Item(id=r["id"], name=r["name"], price=r["price"], updated_at=r["updated_at"])
                             for r in response.json())
                link = response.headers.get("link")
                url = link[1:link.index(">")] if link else None
        return items

    items = asyncio.run(run())
    records = sorted((i.__dict__ for i in items), key=lambda r: r["id"])
    encoded = json.dumps(records, ensure_ascii=False, separators=(",", ":"))
    stored = snapshot.read_text(encoding="utf-8")
    same = encoded == stored  # the text comparison a matching snapshot needs
    if "--parse-stored" in sys.argv:
        same = json.loads(stored) == records  # a reformatted or mismatching file is compared as data
    print(json.dumps({"records": len(records), "same": same}))


if __name__ == "__main__":
    main()

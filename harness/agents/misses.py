"""Explaining a replay miss: the request the cassette had no answer for, the nearest recorded one, what differs.

The runner reports a miss as a `replay_miss` error (message, and `differences` in its payload); this adds
the recorded interaction it was compared with (its index, request and recorded status) and the fix, as
one JSON document for an agent.
"""

from __future__ import annotations

from typing import Any

from ..cassettes.format import Cassette, Interaction, load_cassette
from ..cassettes.matching import InteractionIndex, describe, interaction_key, request_key
from ..pipeline import Outcome
from ..project import Project


def _nearest(cassette: Cassette, message: str, method: str, url: str) -> tuple[int, Interaction] | None:
    keys = [interaction_key(i) for i in cassette.interactions]
    # The runner names the interaction it compared with in its message: take that one when it can be found.
    for n, key in enumerate(keys):
        if f"closest recorded: {describe(key)}:" in message:
            return n, cassette.interactions[n]
    near = InteractionIndex(cassette.interactions).nearest(request_key(method, url, None))
    if near is None:
        return None
    n = keys.index(near[0])
    return n, cassette.interactions[n]


def explain(project: Project, outcome: Outcome) -> dict[str, Any]:
    result = outcome.result
    prepared = outcome.prepared
    definition = prepared.definition
    where = project.relative(prepared.cassette_path)
    base: dict[str, Any] = {"function": definition.qualified_name, "scenario": result.scenario, "cassette": where}
    if result.error is None or result.error.type != "replay_miss":
        return {**base, "miss": False, "status": result.status,
                "error": result.error.to_json() if result.error else None, "unplayed": result.unplayed,
                "message": "every request was answered from the recording" if result.error is None
                else "the replay did not miss, but the run failed: see error"}
    missed = next((r for r in result.requests if r.error == "ReplayMissError"), None)
    method, url = (missed.method, missed.url) if missed else ("?", "?")
    payload = result.error.payload if isinstance(result.error.payload, dict) else {}
    out: dict[str, Any] = {**base, "miss": True, "message": result.error.message,
                           "request": {"method": method, "url": url},
                           "differences": list(payload.get("differences") or []), "nearest": None}
    cassette = load_cassette(prepared.cassette_path)
    found = _nearest(cassette, result.error.message, method, url) if missed else None
    if found is not None:
        n, item = found
        out["nearest"] = {"index": n, "method": item.method, "uri": item.uri, "body": item.request_body,
                          "status": item.status}
    scenario = result.scenario or "default"
    out["fix"] = [
        "if the function now sends this request on purpose (new parameter, new endpoint, other input), "
        f"re-record: harness dryrun {definition.qualified_name} {result.connection_id} --scenario {scenario} "
        "--record",
        "otherwise change the function (or the run's input/metadata/checkpoint) so it sends the recorded "
        "request again",
    ]
    return out

"""Option combinations that mean nothing for the run about to start, refused before anything runs.

click checks each option on its own; these checks need the resolved function and mode (a replay chosen
because the scenario's cassette exists, an action rather than a sync), so they run after the pipeline has
prepared the request and before it executes it. Each refusal is a usage error (exit 2) naming the option.
"""

from __future__ import annotations

from ..errors import UsageError


def refuse_meaningless(mode: str, function_type: str, *, persist: bool = False, persist_metadata: bool = False,
                       via_nango_proxy: bool = False, record_on_failure: bool = False, fail_unplayed: bool = False,
                       input_given: bool = False, source: str | None = None, environment: str | None = None,
                       cassette: str = "") -> None:
    replaying = mode == "replay"
    kind = {"live": "a live run", "record": "a recording", "replay": "a replay"}.get(mode, mode)
    why = f"this run replays {cassette}" if cassette else "this run is a replay"
    live_only = [flag for flag, on in (("--persist", persist), ("--persist-metadata", persist_metadata),
                                       ("--via-nango-proxy", via_nango_proxy), ("--source", source is not None),
                                       ("--environment", environment is not None)) if on]
    if replaying and live_only:
        raise UsageError(f"{live_only[0]} applies to live runs, and {why}", hint="add --live or --record")
    if record_on_failure and mode != "record":
        raise UsageError(f"--record-on-failure applies to recording runs, and this run is {kind}",
                         hint="add --record")
    if fail_unplayed and mode != "replay":
        raise UsageError(f"--strict checks a replay's unused interactions, and this run is {kind}",
                         hint="drop --strict, or replay with --replay")
    if input_given and function_type != "action":
        raise UsageError(f"--input is an action's input, and this function is a {function_type}",
                         hint="pass --metadata, --checkpoint or --payload instead")

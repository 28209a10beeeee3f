"""`harness docs [TOPIC]`: the reference, generated from the code (see `harness/docs.py`)."""

from __future__ import annotations

import json
import sys

import click


@click.command("docs")
@click.argument("topic", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the reference as one JSON document.")
def docs_cmd(topic: tuple[str, ...], as_json: bool) -> None:
    """Print the reference: authoring API, commands and options, [tool.harness] keys, exit codes, workflow.

    TOPIC is api, cli, config, exit-codes or workflow, or a command (`harness docs dryrun`,
    `harness docs cassettes lint`); without one, everything.
    """
    from ..docs import reference_json, render_reference

    name = " ".join(topic) or None
    if as_json:
        sys.stdout.write(json.dumps(reference_json(name), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_reference(name))

"""`harness new sync|action|on-event INTEGRATION NAME`: a typed skeleton that loads and compiles as is."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from ..atomic import unwritable, write_atomic
from ..definitions import EVENTS
from ..errors import ConfigError, UsageError
from ..names import check_name, inside
from ..project import Project

KINDS = {"sync": "syncs", "action": "actions", "on-event": "on_events"}
_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", name))


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def _sync(name: str, fn: str, model: str) -> str:
    return f'''\
"""TODO: what this sync fetches, from which endpoint."""

from __future__ import annotations

from pydantic import BaseModel

from harness import SyncContext, sync


class {model}(BaseModel):
    id: str
    # TODO: the fields you keep


class {model}Checkpoint(BaseModel):
    """Where the last run got to: the newest `updated_at` saved (TODO: the field your API filters on)."""

    since: str | None = None


@sync(models=[{model}], checkpoint={model}Checkpoint, frequency="every hour")
async def {fn}(nango: SyncContext) -> None:
    checkpoint = await nango.get_checkpoint()
    newest = checkpoint.since if checkpoint else None
    # TODO: the endpoint, and the parameter that asks only for what changed since the checkpoint.
    params = {{"since": newest}}
    async for page in nango.paginate("/TODO/{name}", params=params, retries=3):
        await nango.batch_save([{model}(id=str(row["id"])) for row in page], {model})
        for row in page:
            if row.get("updated_at") and (newest is None or row["updated_at"] > newest):
                newest = row["updated_at"]
        # Save progress after each page, once its records are saved: an interrupted run resumes here.
        await nango.save_checkpoint({model}Checkpoint(since=newest))
'''


def _action(fn: str, model: str) -> str:
    return f'''\
"""TODO: what this action does."""

from __future__ import annotations

from pydantic import BaseModel, Field

from harness import ActionContext, ActionError, action


class {model}Input(BaseModel):
    name: str = Field(min_length=1, description="TODO")


class {model}Output(BaseModel):
    id: str


@action(input={model}Input, output={model}Output)
async def {fn}(nango: ActionContext, input: {model}Input) -> {model}Output:
    """TODO: the description agents and the deploy plan show."""
    response = await nango.post("/TODO", json={{"name": input.name}})
    body = response.json()
    if "id" not in body:
        raise ActionError({{"message": "unexpected answer", "response": body}})
    return {model}Output(id=str(body["id"]))
'''


def _event(fn: str, event: str) -> str:
    return f'''\
"""TODO: what to do on {event}."""

from __future__ import annotations

from harness import ActionContext, on_event


@on_event("{event}")
async def {fn}(nango: ActionContext) -> None:
    nango.log("{event}: TODO")
'''


def new_function(project: Project, kind: str, integration: str, name: str, event: str | None = None) -> Path:
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}", hint="use sync, action or on-event")
    for what, value in (("integration", integration), ("function", name)):
        check_name(what, value)  # never a path: no `..`, `/`, NUL, leading dot
        if not _NAME.fullmatch(value):
            raise UsageError(f"bad {what} name {value!r}",
                             hint="use lower-case letters and digits, separated by dashes or underscores")
    module = name.replace("-", "_")
    if keyword.iskeyword(module):
        # The skeleton's `async def class(...)` would be a SyntaxError: a file that never loads.
        raise UsageError(f"bad function name {name!r}: {module!r} is a Python keyword",
                         hint="pick another name: the skeleton's `async def` is named after the function")
    path = project.functions_dir / integration / KINDS[kind] / f"{module}.py"
    if not inside(project.functions_dir, path):
        raise UsageError(f"{path} would lie outside {project.functions_dir}",
                         hint="functions/<integration> is a symlink out of the project; replace it with a folder")
    if path.exists():
        raise ConfigError(f"{project.relative(path)} already exists", hint="pick another name, or edit that file")
    home = project.functions_dir / integration
    clash = [p for folder in KINDS.values() for p in (home / folder).glob(f"{module}.py")]
    if clash:
        raise ConfigError(f"{project.relative(clash[0])} already defines {name!r} in {integration!r}",
                          hint="function names are unique per integration")
    if kind == "sync":
        text = _sync(name, module, _singular(_camel(name)))
    elif kind == "action":
        text = _action(module, _camel(name))
    else:
        chosen = event or "post-connection-creation"
        if chosen not in EVENTS:
            raise UsageError(f"unknown event {chosen!r}", hint="use one of " + ", ".join(EVENTS))
        text = _event(module, chosen)
    problem = unwritable(path.parent)
    if problem is not None:
        # A file where functions/<integration> belongs (or a read-only folder) was an "internal error".
        raise ConfigError(f"cannot write {project.relative(path)}: {project.relative(problem.part)} "
                          f"{problem.reason}", hint=problem.fix)
    write_atomic(path, text)
    return path

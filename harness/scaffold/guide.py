"""The agent guide `harness init` writes: `AGENTS.md` and `.agents/skills/building-harness-functions/SKILL.md`.

Both hold the workflow (write the function and its models, dry-run live, record, test, iterate on the
diff, deploy) and the request template an agent is best given. The reference itself is not copied here:
the guide points at `harness docs`, which generates it from the code. Every command in a ```sh block
runs as is in a fresh `harness init` project (a test extracts and runs them all), so commands that need
a placeholder go in ```text blocks.
"""

from __future__ import annotations

SKILL_NAME = "building-harness-functions"
SKILL_PATH = f".agents/skills/{SKILL_NAME}/SKILL.md"

WORKFLOW = """\
## Workflow

1. **Know the API.** `harness docs api` lists the decorators and every `nango.*` method with its signature;
   `harness docs cli` every command and option; `harness docs dryrun` one command.
2. **Write the function and its models** under `functions/<integration>/{syncs,actions,on_events}/<name>.py`
   (one function per module, pydantic models with `id: str` for sync records, an input and an output model
   for actions). `harness new sync|action|on-event INTEGRATION NAME` writes a skeleton that compiles.
   `harness compile` checks every definition and names the file, line and field of each problem.
3. **Dry-run it live** against the connection: `harness dryrun NAME CONNECTION --live` prints the records,
   checkpoints, logs and every request; `--json` prints one document. A live run never writes to the
   provider unless `--allow-writes`; `--max-pages 2` keeps a first try short.
4. **Record it**: `harness dryrun NAME CONNECTION --record` saves the exchanges as
   `cassettes/<integration>/<name>/default.yaml`, secrets scrubbed (use `--scenario` for more cases). Never
   edit a cassette by hand: re-record it.
5. **Test**: `harness test` replays every scenario offline and compares the whole run with its snapshot
   (`<scenario>.snapshot.json`, written on the first run: review and commit it).
6. **Iterate on the diff**: a failing scenario prints the record-level difference (`~ 1001: title: "a" ->
   "b"`). Fix the function, or accept an intended change with `harness test --update`. A request the
   cassette has no answer for names the nearest recorded request and what differs: re-record when the
   function's requests changed on purpose.
7. **Deploy**: `harness deploy --to ./dist --dry-run` shows the plan (compile, tests, what changes);
   without `--dry-run` it writes the bundle.

Exit codes: 0 ok, 1 the function or the tests failed, 2 usage or definition error, 3 recording problem
(`harness docs exit-codes`).
"""

REQUEST_TEMPLATE = """\
## Asking for a function

Give the agent (or yourself) these, filled in:

```text
Build a harness <sync | action> for <what it does>.
Integration id: <github>            folder functions/<integration>/, and the connection's integration
Connection id:  <github-demo>       an entry of fixtures/connections.yaml (credentials as ${ENV} references)
Inputs:         <title: string (required), body: string, labels: list of strings>   (actions)
Outputs:        <id: string, number: integer, url: string>   (for a sync: the record models and their ids)
API reference:  <https://docs.github.com/en/rest/issues/issues#create-an-issue>
```
"""

COMMANDS = """\
## Commands (all of them run as is in this project)

```sh
harness docs api                                          # the authoring API: decorators, every nango.* method
harness list                                              # the functions of this project
harness new action github close-issue                     # a skeleton that compiles: fill in models and body
harness compile                                           # every definition checked (file:line: problem)
harness dryrun issues github-demo --live --max-pages 2    # call the provider (GITHUB_TOKEN in .env)
harness dryrun issues github-demo --record --scenario mine    # the same, saved as a cassette, secrets scrubbed
harness dryrun issues github-demo --scenario mine --json      # replay it: one JSON document, no network
harness test                                              # every scenario replayed against its snapshot
harness test --update                                     # accept an intended change (review the diff first)
harness deploy --to ./dist --dry-run                      # the plan: compile, tests, what would change
```
"""

MCP = """\
## MCP (for agents that speak it)

`harness mcp --dev` serves developer tools over stdio: `list_functions`, `dryrun`, `record`, `run_tests`
(the record-level diff on a failure), `explain_replay_miss`, `compile` and `docs`, each answering the JSON
the CLI prints with `--json`. `harness mcp` serves this project's actions as tools, answered from the
recordings (`--live` for the real connection). Client configuration (Claude Desktop and most clients):

```json
{"mcpServers": {"harness-dev": {"command": "harness", "args": ["--project", "/path/to/this/project", "mcp", "--dev"]}}}
```
"""

RULES = """\
## Rules

- Never put a secret in a file: connections use `${ENV}` references, values go in `.env` (ignored by git).
- Cassettes and snapshots are generated: re-record (`--record`) or accept (`harness test --update`), never
  hand-edit them; commit them with the function.
- Keep function modules free of import-time side effects (`harness compile` refuses them) and import only
  the standard library, pydantic, httpx and harness unless `[tool.harness.package] allow_imports` says so.
- Prefer `nango.paginate(...)` over hand-written page loops, save records page by page, and save a
  checkpoint after each page so an interrupted sync resumes.
"""


def agents_md(name: str) -> str:
    return (f"# Agent guide: {name}\n\nThis project holds Nango-style integration functions built and tested "
            "with harness. The skill `" + SKILL_PATH + "` has the full workflow; `harness docs` prints the "
            "reference generated from the installed harness.\n\n"
            + WORKFLOW + "\n" + COMMANDS + "\n" + REQUEST_TEMPLATE + "\n" + MCP + "\n" + RULES)


def skill_md() -> str:
    front = ("---\n"
             f"name: {SKILL_NAME}\n"
             "description: Write, dry-run, record, test and deploy Nango-style integration functions (syncs, "
             "actions, webhook handlers, event functions) in a harness project. Use when asked to build or fix "
             "a function under functions/, record its traffic, or make its scenario tests pass.\n"
             "---\n\n")
    return (front + "# Building harness functions\n\n"
            + WORKFLOW + "\n" + COMMANDS + "\n" + REQUEST_TEMPLATE + "\n" + RULES)

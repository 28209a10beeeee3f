"""`harness serve`: a local runtime that answers the subset of Nango's REST API an app uses.

The app points its Nango client (`@nangohq/node`, or any HTTP client) at `http://127.0.0.1:3003` and works
unchanged: actions, syncs on their schedule, records with `_nango_metadata`, connections and metadata, the
functions config, provider webhooks routed to webhook handlers, connection events, signed webhooks back to
the app, and OpenTelemetry spans for every run. Provider calls are replayed from the project's cassettes
unless `--live` is given.

Layout (one concept per module): `config` (the options), `clock` (time that escapes a replay's frozen
clock, and a manual clock for tests), `registry` (the project's integrations, functions, connections and
recorded scenarios), `adhoc` (connections created through the API, made runnable), `state` (run history and
metadata kept across restarts), `records` (reads of the SQLite records store in Nango's shape), `executor`
(the worker threads runs execute on), `runs` (one run of a function: request, store, history, webhooks,
spans), `scheduler` (syncs on their frequency), `outbound` (signed webhooks to the app, with retries),
`telemetry` (OpenTelemetry spans from a `RunResult`), `runtime` (all of it together), `errors` and `bodies`
(Nango's error answers, request checks), `api/` (the HTTP endpoints), `app` (the Starlette application)
and `server` (uvicorn, the ready line and signals). Starlette, uvicorn and OpenTelemetry are imported only here, never
by `harness --help`.
"""

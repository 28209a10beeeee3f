"""Small fakes of Slack, HubSpot and Linear on 127.0.0.1, for recording the bundled templates' cassettes.

Each answers only what its template calls, in the provider's shape: Slack's `conversations.list` (cursor in
`response_metadata.next_cursor`, `ok` flags) and `chat.postMessage`; HubSpot's CRM v3 contacts (`paging.next.
after`); Linear's GraphQL `issues` connection (`pageInfo`). A request without the expected bearer token gets
the provider's 401. Data is fixed so recordings are stable.
"""

from __future__ import annotations

import json

from .server_base import FakeServer, Reply, Seen

SLACK_TOKEN = "xoxb-fake-slack-token-1"
HUBSPOT_TOKEN = "pat-fake-hubspot-token-1"
LINEAR_TOKEN = "lin_api_fake_token_1"

CHANNELS = [{"id": f"C0{i:07d}", "name": name, "is_private": i == 4, "is_archived": i == 5, "num_members": 3 * i}
            for i, name in enumerate(["general", "random", "dev", "ops", "secret-plans", "old-news", "support"], 1)]
CONTACTS = [{"id": str(100 + i), "properties": {"email": f"person{i}@example.com", "firstname": first,
                                                 "lastname": "Doe" if i % 2 else None},
             "createdAt": f"2026-01-0{i}T10:00:00Z", "updatedAt": f"2026-02-0{i}T10:00:00Z", "archived": False}
            for i, first in enumerate(["Ada", "Grace", "Alan", "Edsger", "Barbara"], 1)]
LINEAR_ISSUES = [{"id": f"lin-{i}", "identifier": f"ENG-{i}", "title": title, "priority": i % 4,
                  "updatedAt": f"2026-03-0{i}T09:00:00.000Z", "state": {"name": "Todo" if i % 2 else "Done"}}
                 for i, title in enumerate(["Crash on login", "Slow search", "Typo in footer", "Dark mode",
                                            "Export to CSV"], 1)]


def _authorized(req: Seen, token: str) -> bool:
    return req.headers.get("authorization") == f"Bearer {token}"


class FakeSlack(FakeServer):
    token = SLACK_TOKEN

    def __init__(self) -> None:
        super().__init__(self._handle)

    def _handle(self, req: Seen) -> Reply:
        if not _authorized(req, self.token):
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        if req.method == "GET" and req.path == "/conversations.list":
            limit = int(req.q("limit") or 100)
            start = int(req.q("cursor")[len("dGVhbTo"):]) if req.q("cursor") else 0
            page = CHANNELS[start:start + limit]
            more = start + limit < len(CHANNELS)
            return Reply(200, {"ok": True, "channels": page,
                               "response_metadata": {"next_cursor": f"dGVhbTo{start + limit}" if more else ""}})
        if req.method == "POST" and req.path == "/chat.postMessage":
            body = req.json() or {}
            if not any(c["id"] == body.get("channel") for c in CHANNELS):
                return Reply(200, {"ok": False, "error": "channel_not_found"})
            return Reply(200, {"ok": True, "channel": body["channel"], "ts": "1767225600.000100",
                               "message": {"text": body.get("text"), "type": "message"}})
        return Reply(404, {"ok": False, "error": "unknown_method"})


class FakeHubspot(FakeServer):
    token = HUBSPOT_TOKEN

    def __init__(self) -> None:
        super().__init__(self._handle)

    def _handle(self, req: Seen) -> Reply:
        if not _authorized(req, self.token):
            return Reply(401, {"status": "error", "category": "INVALID_AUTHENTICATION"})
        if req.method == "GET" and req.path == "/crm/v3/objects/contacts":
            limit = int(req.q("limit") or 10)
            after = req.q("after")
            start = next((i + 1 for i, c in enumerate(CONTACTS) if c["id"] == after), 0)
            page = CONTACTS[start:start + limit]
            wanted = (req.q("properties") or "").split(",")
            rows = [{**c, "properties": {k: v for k, v in c["properties"].items() if k in wanted}} for c in page]
            doc: dict[str, object] = {"results": rows}
            if start + limit < len(CONTACTS):
                doc["paging"] = {"next": {"after": page[-1]["id"], "link": "?after=" + page[-1]["id"]}}
            return Reply(200, doc, headers={"x-hubspot-ratelimit-remaining": "99"})
        return Reply(404, {"status": "error", "category": "OBJECT_NOT_FOUND"})


class FakeLinear(FakeServer):
    token = LINEAR_TOKEN

    def __init__(self) -> None:
        super().__init__(self._handle)

    def _handle(self, req: Seen) -> Reply:
        if not _authorized(req, self.token):
            return Reply(401, {"errors": [{"message": "Authentication required"}]})
        if req.method == "POST" and req.path == "/graphql":
            body = json.loads(req.body or b"{}")
            variables = body.get("variables") or {}
            first = int(variables.get("first") or 50)
            after = variables.get("after")
            start = next((i + 1 for i, n in enumerate(LINEAR_ISSUES) if n["id"] == after), 0)
            nodes = LINEAR_ISSUES[start:start + first]
            more = start + first < len(LINEAR_ISSUES)
            return Reply(200, {"data": {"issues": {"nodes": nodes, "pageInfo": {
                "hasNextPage": more, "endCursor": nodes[-1]["id"] if nodes else None}}}})
        return Reply(404, {"errors": [{"message": "not found"}]})

"""Linear issues through the GraphQL API: a manual cursor loop over `pageInfo`."""

from __future__ import annotations

from pydantic import BaseModel

from harness import SyncContext, sync

QUERY = """query Issues($first: Int!, $after: String) {
  issues(first: $first, after: $after) {
    nodes { id identifier title priority updatedAt state { name } }
    pageInfo { hasNextPage endCursor }
  }
}"""


class LinearIssue(BaseModel):
    id: str
    identifier: str
    title: str
    priority: int
    state: str
    updated_at: str


@sync(models=[LinearIssue], frequency="every hour", scopes=["read"])
async def issues(nango: SyncContext) -> None:
    after: str | None = None
    while True:
        response = await nango.post("/graphql", json={"query": QUERY, "variables": {"first": 2, "after": after}},
                                    retries=3)
        data = response.json()["data"]["issues"]
        await nango.batch_save([LinearIssue(id=n["id"], identifier=n["identifier"], title=n["title"],
                                            priority=n["priority"], state=n["state"]["name"],
                                            updated_at=n["updatedAt"]) for n in data["nodes"]], LinearIssue)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]

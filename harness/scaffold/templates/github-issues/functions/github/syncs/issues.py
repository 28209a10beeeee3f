"""Issues of the connection's repository, incrementally: GitHub's link-header pagination, a checkpoint
after every page so that an interrupted run resumes where it stopped."""

from __future__ import annotations

from pydantic import BaseModel, Field

from harness import SyncContext, sync


class Issue(BaseModel):
    id: str
    number: int
    title: str
    state: str
    author: str
    updated_at: str


class IssueCursor(BaseModel):
    since: str | None = None


class Repo(BaseModel):
    owner: str = Field(min_length=1)
    repo: str = Field(min_length=1)


@sync(models=[Issue], checkpoint=IssueCursor, metadata=Repo, frequency="every hour", scopes=["repo"],
      auto_start=False)
async def issues(nango: SyncContext) -> None:
    meta = await nango.get_metadata()
    cursor = await nango.get_checkpoint()
    newest = cursor.since if cursor else None
    params = {"state": "all", "per_page": 5, "since": newest}
    async for page in nango.paginate(f"/repos/{meta.owner}/{meta.repo}/issues", params=params, retries=3):
        records = [Issue(id=str(row["id"]), number=row["number"], title=row["title"], state=row["state"],
                         author=row["user"]["login"], updated_at=row["updated_at"]) for row in page]
        await nango.batch_save(records, Issue)
        newest = max([newest or "", *(r.updated_at for r in records)]) or None
        await nango.save_checkpoint(IssueCursor(since=newest))

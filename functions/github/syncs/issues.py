"""Issues of one repository, incrementally: pages through GitHub's link-header pagination and saves a
checkpoint after every page, so an interrupted run resumes where it stopped. GitHub's `issues` webhooks
update the same records between runs."""

from __future__ import annotations

from typing import Any

from harness import SyncContext, sync

from ..models import Issue, IssueCursor, RepoMetadata


@sync(models=[Issue], checkpoint=IssueCursor, metadata=RepoMetadata, frequency="every hour", scopes=["repo"],
      webhook_subscriptions=["issues"])
async def issues(nango: SyncContext) -> None:
    meta = await nango.get_metadata()
    cursor = await nango.get_checkpoint()
    params = {"state": "all", "per_page": 5, "since": cursor.since if cursor else None}
    newest = cursor.since if cursor else None
    async for page in nango.paginate(f"/repos/{meta.owner}/{meta.repo}/issues", params=params, retries=3):
        records = [
            Issue(id=str(row["id"]), number=row["number"], title=row["title"], state=row["state"],
                  author=row["user"]["login"], updated_at=row["updated_at"])
            for row in page
        ]
        await nango.batch_save(records, Issue)
        for record in records:
            if newest is None or record.updated_at > newest:
                newest = record.updated_at
        await nango.save_checkpoint(IssueCursor(since=newest))
    nango.log(f"synced issues of {meta.owner}/{meta.repo}")


@issues.on_webhook
async def issues_webhook(nango: SyncContext, payload: dict[str, Any]) -> None:
    """GitHub's `issues` webhook event (opened, edited, closed...): save the issue it carries, no API call."""
    row = payload.get("issue")
    if not isinstance(row, dict):
        nango.log(f"ignored a webhook without an issue (action {payload.get('action')!r})", level="warn")
        return
    issue = Issue(id=str(row["id"]), number=row["number"], title=row["title"], state=row["state"],
                  author=row["user"]["login"], updated_at=row["updated_at"])
    await nango.batch_save([issue], Issue)
    nango.log(f"webhook {payload.get('action')}: issue #{issue.number}")

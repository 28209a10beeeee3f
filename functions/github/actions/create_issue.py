"""Open an issue in the connection's repository."""

from __future__ import annotations

from harness import ActionContext, ActionError, action

from ..models import CreatedIssue, CreateIssue, RepoMetadata


@action(input=CreateIssue, output=CreatedIssue, metadata=RepoMetadata, scopes=["repo"])
async def create_issue(nango: ActionContext, input: CreateIssue) -> CreatedIssue:
    meta = await nango.get_metadata()
    body = {"title": input.title, "body": input.body, "labels": input.labels}
    response = await nango.post(f"/repos/{meta.owner}/{meta.repo}/issues", json=body, retries=2)
    issue = response.json()
    if "number" not in issue:
        raise ActionError({"message": "GitHub did not return an issue", "response": issue})
    return CreatedIssue(id=str(issue["id"]), number=issue["number"], url=issue["html_url"])

"""Open an issue in the connection's repository."""

from __future__ import annotations

from pydantic import BaseModel, Field

from harness import ActionContext, ActionError, action


class NewIssue(BaseModel):
    title: str = Field(min_length=1, description="The issue's title.")
    body: str | None = Field(default=None, description="Markdown text of the issue.")
    labels: list[str] = Field(default_factory=list, description="Label names to set.")


class OpenedIssue(BaseModel):
    id: str
    number: int
    url: str


class TargetRepo(BaseModel):
    owner: str = Field(min_length=1)
    repo: str = Field(min_length=1)


@action(input=NewIssue, output=OpenedIssue, metadata=TargetRepo, scopes=["repo"])
async def create_issue(nango: ActionContext, input: NewIssue) -> OpenedIssue:
    """Open a GitHub issue in the connected repository and return its number and URL."""
    meta = await nango.get_metadata()
    response = await nango.post(f"/repos/{meta.owner}/{meta.repo}/issues", retries=2,
                                json={"title": input.title, "body": input.body, "labels": input.labels})
    issue = response.json()
    if "number" not in issue:
        raise ActionError({"message": "GitHub did not return an issue", "response": issue})
    return OpenedIssue(id=str(issue["id"]), number=issue["number"], url=issue["html_url"])

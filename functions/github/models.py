"""Models shared by the github example functions."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Issue(BaseModel):
    id: str
    number: int
    title: str
    state: str
    author: str
    updated_at: str


class IssueCursor(BaseModel):
    """Where the issues sync got to: the newest `updated_at` it has saved."""

    since: str | None = None


class RepoMetadata(BaseModel):
    owner: str = Field(min_length=1)
    repo: str = Field(min_length=1)


class CreateIssue(BaseModel):
    title: str = Field(min_length=1)
    body: str | None = None
    labels: list[str] = []


class CreatedIssue(BaseModel):
    id: str
    number: int
    url: str

"""When a connection is created, check that its token can read the repository its metadata names."""

from __future__ import annotations

from harness import ActionContext, ActionError, on_event


@on_event("post-connection-creation")
async def check_access(nango: ActionContext) -> None:
    meta = await nango.get_metadata() or {}  # event functions get the connection's metadata as a dict
    owner, repo = meta.get("owner"), meta.get("repo")
    if not owner or not repo:
        raise ActionError({"message": "the connection's metadata needs owner and repo"})
    found = (await nango.get(f"/repos/{owner}/{repo}", retries=2)).json()
    if not found.get("has_issues", False):
        raise ActionError({"message": f"{owner}/{repo} has issues turned off"})
    nango.log(f"connected to {found['full_name']} (default branch {found['default_branch']})")

"""Channels of the connected Slack workspace: conversations.list with Slack's cursor pagination."""

from __future__ import annotations

from pydantic import BaseModel

from harness import SyncContext, sync


class SlackChannel(BaseModel):
    id: str
    name: str
    is_private: bool
    is_archived: bool
    members: int


@sync(models=[SlackChannel], frequency="every 6 hours", scopes=["channels:read"])
async def channels(nango: SyncContext) -> None:
    params = {"types": "public_channel,private_channel", "limit": 3, "exclude_archived": False}
    async for page in nango.paginate("/conversations.list", params=params, paginate={"response_path": "channels"},
                                     retries=3):
        await nango.batch_save([SlackChannel(id=c["id"], name=c["name"], is_private=c["is_private"],
                                             is_archived=c["is_archived"], members=c["num_members"])
                                for c in page], SlackChannel)

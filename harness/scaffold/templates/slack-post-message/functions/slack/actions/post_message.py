"""Post a message to a Slack channel."""

from __future__ import annotations

from pydantic import BaseModel, Field

from harness import ActionContext, ActionError, action


class SlackMessage(BaseModel):
    channel: str = Field(min_length=1, description="Channel id, e.g. C0123456.")
    text: str = Field(min_length=1, max_length=4000, description="The message (Slack mrkdwn).")


class PostedMessage(BaseModel):
    channel: str
    ts: str


@action(input=SlackMessage, output=PostedMessage, scopes=["chat:write"])
async def post_message(nango: ActionContext, input: SlackMessage) -> PostedMessage:
    """Post a message to a Slack channel and return its timestamp id."""
    response = await nango.post("/chat.postMessage", json={"channel": input.channel, "text": input.text})
    answer = response.json()
    if not answer.get("ok"):
        # Slack answers 200 with ok=false; the error code is what a caller can act on.
        raise ActionError({"message": f"Slack refused the message: {answer.get('error')}",
                           "error": answer.get("error")})
    return PostedMessage(channel=answer["channel"], ts=answer["ts"])

"""HubSpot CRM contacts, with the CRM v3 cursor (`paging.next.after`) and a checkpoint per page."""

from __future__ import annotations

from pydantic import BaseModel

from harness import SyncContext, sync


class HubspotContact(BaseModel):
    id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    updated_at: str


class ContactsCursor(BaseModel):
    after: str | None = None


@sync(models=[HubspotContact], checkpoint=ContactsCursor, frequency="every 30 minutes",
      scopes=["crm.objects.contacts.read"])
async def contacts(nango: SyncContext) -> None:
    params = {"limit": 2, "properties": ["email", "firstname", "lastname"]}
    async for page in nango.paginate("/crm/v3/objects/contacts", params=params, retries=3):
        await nango.batch_save([
            HubspotContact(id=row["id"], email=row["properties"].get("email"),
                           first_name=row["properties"].get("firstname"),
                           last_name=row["properties"].get("lastname"), updated_at=row["updatedAt"])
            for row in page], HubspotContact)
        await nango.save_checkpoint(ContactsCursor(after=page[-1]["id"]))

"""Issue 15: a new conversation with a chat profile. An administrator makes the profile; a user
picks it on the chat page (never seeing its system prompt) and the provider gets the profile's
model and persona. A profile deleted while the page still offers it is a message, not a blank page."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.browser.chat_steps import answered, conversation_id, send, signed_in
from tests.browser.support import Site, unique
from tests.support.upstream import CHAT_PATH, Reply

PERSONA = "You are the night-shift librarian. Whisper every answer."


async def admin_profile(site: Site, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A new profile, made through the admin API; returns the admin's token and the profile."""
    admin = await site.create_user(unique("root"), admin=True)
    made = await site.api("POST", "/api/admin/profiles", json={"name": unique("librarian"), **fields}, token=admin)
    assert made.status == 201, made.json
    return admin, dict(made.json["data"])


async def test_a_user_starts_a_conversation_with_a_profile(site: Site, page: Page) -> None:
    _, profile = await admin_profile(site, model="gpt-vision", system_prompt=PERSONA)
    token = await signed_in(page, site)
    picker = page.get_by_role("combobox", name="Chat profile")
    await expect(picker.get_by_role("option", name=f"{profile['name']} · gpt-vision")).to_be_attached()
    assert PERSONA not in await page.content()  # the persona stays on the server
    await picker.select_option(profile["id"])

    site.upstream.push(Reply(text="*quietly* Welcome."))
    await send(page, "Where are the atlases?")
    await expect(await answered(page)).to_contain_text("Welcome.")

    call = [r for r in site.upstream.requests if r.path == CHAT_PATH][-1].json
    assert call["model"] == "gpt-vision"
    assert call["messages"][0] == {"role": "system", "content": PERSONA}
    stored = await site.api("GET", f"/api/conversations/{conversation_id(page)}", token=token)
    assert stored.json["data"]["profile_id"] == profile["id"]


async def test_a_profile_deleted_meanwhile_is_a_clear_message(site: Site, page: Page) -> None:
    admin, profile = await admin_profile(site, system_prompt=PERSONA)
    await signed_in(page, site)
    await page.get_by_role("combobox", name="Chat profile").select_option(profile["id"])
    deleted = await site.api("DELETE", f"/api/admin/profiles/{profile['id']}", token=admin)
    assert deleted.status == 200, deleted.json

    await send(page, "Still open?")
    await expect(page.get_by_role("alert")).to_contain_text("no chat profile")
    await expect(page.get_by_role("textbox", name="Message")).to_have_value("Still open?")  # the draft is kept
    assert not [r for r in site.upstream.requests if r.path == CHAT_PATH]

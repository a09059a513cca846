"""The conversation list: one history across every way in (a conversation begun through the
AstrBot face is listed, labelled by its origin, and continued here), search by title on the
server, "Load more" pages, and the drawer it becomes on a phone-sized screen."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.browser.chat_steps import answered, answers, send, signed_in, stored
from tests.browser.support import Site
from tests.support.upstream import Reply


async def test_a_conversation_from_another_face_is_labelled_and_continued(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    site.upstream.push(Reply(text="Hello from the bot side."), Reply(text="And hello from the web."))
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
        started = await client.post("/api/v1/chat", headers={"Authorization": f"Bearer {token}"},
                                    json={"message": "Hi through AstrBot", "username": "bob"})
    assert started.status_code == 200, started.text

    await page.reload()
    item = page.get_by_role("navigation", name="Conversations").get_by_role("listitem")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("AstrBot")
    await item.get_by_role("link").click()
    await expect(page.get_by_text("from AstrBot")).to_be_visible()
    await expect(answers(page).last).to_contain_text("Hello from the bot side.")

    await send(page, "Continuing on the web")
    await expect(await answered(page)).to_contain_text("And hello from the web.")
    listed = await site.api("GET", "/api/conversations", token=token)
    [conversation] = listed.json["data"]["items"]
    assert conversation["origin"] == "astrbot"
    messages = await stored(site, token, conversation["id"])
    assert [m["content"] for m in messages if m["role"] == "user"] == ["Hi through AstrBot", "Continuing on the web"]


async def test_search_finds_conversations_by_title(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    for title in ("Gardening in spring", "Tax return 2026", "Spring rolls recipe"):
        made = await site.api("POST", "/api/conversations", json={"title": title}, token=token)
        assert made.status == 201, made.json
    await page.reload()
    listed = page.get_by_role("navigation", name="Conversations").get_by_role("listitem")
    await expect(listed).to_have_count(3)

    await page.get_by_role("searchbox", name="Search conversations").fill("spring")
    await expect(listed).to_have_count(2)
    await expect(listed).to_contain_text(["Spring rolls recipe", "Gardening in spring"])  # newest first
    await page.get_by_role("searchbox", name="Search conversations").fill("nothing like this")
    await expect(listed).to_have_count(0)
    await expect(page.get_by_text("No conversation matches.")).to_be_visible()
    await page.get_by_role("searchbox", name="Search conversations").fill("")
    await expect(listed).to_have_count(3)


async def test_load_more_pages_through_a_long_list(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    for number in range(1, 36):
        made = await site.api("POST", "/api/conversations", json={"title": f"Topic {number}"}, token=token)
        assert made.status == 201, made.json
    await page.reload()
    listed = page.get_by_role("navigation", name="Conversations").get_by_role("listitem")
    await expect(listed).to_have_count(30)
    await expect(listed.first).to_contain_text("Topic 35")
    await page.get_by_role("button", name="Load more").click()
    await expect(listed).to_have_count(35)
    await expect(listed.last).to_contain_text("Topic 1")
    await expect(page.get_by_role("button", name="Load more")).to_have_count(0)


async def test_on_a_phone_the_list_is_a_drawer(site: Site, page: Page) -> None:
    await page.set_viewport_size({"width": 375, "height": 740})
    await signed_in(page, site)
    await send(page, "Small screen question")
    await answered(page)
    drawer = page.get_by_role("navigation", name="Conversations")
    await expect(drawer).to_be_hidden()
    await page.get_by_role("button", name="Conversations").click()
    await expect(drawer).to_be_visible()
    await expect(drawer.get_by_role("link", name="Small screen question")).to_be_visible()
    await drawer.get_by_role("button", name="Close the conversation list").click()
    await expect(drawer).to_be_hidden()
    composer = await page.get_by_role("textbox", name="Message").bounding_box()
    assert composer is not None and composer["x"] + composer["width"] <= 375  # nothing runs off the side

"""Steps the chat page's browser tests share: sign a fresh user in, send a message, find the answer,
and read what the server stored (the page's word is checked against the API's)."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.browser.support import Site, register, unique


async def signed_in(page: Page, site: Site, prefix: str = "chat") -> str:
    """A new user, registered through the form and on the chat page; returns the bearer token."""
    name = unique(prefix)
    await register(page, site, name)
    await expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    return await site.token(name)


async def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


def answers(page: Page) -> Locator:
    return page.get_by_role("region", name="Messages").get_by_role("article", name="Assistant")


async def answered(page: Page) -> Locator:
    """The last answer, once its turn is over (Regenerate is offered only then)."""
    await expect(page.get_by_role("button", name="Regenerate")).to_be_visible()
    return answers(page).last


def conversation_id(page: Page) -> str:
    assert "/c/" in page.url, page.url
    return page.url.rsplit("/c/", 1)[1]


async def stored(site: Site, token: str, conversation: str) -> list[dict[str, Any]]:
    answer = await site.api("GET", f"/api/messages/{conversation}", token=token)
    assert answer.status == 200, answer.json
    return list(answer.json["data"])


async def stored_when(
    site: Site, token: str, conversation: str, done: Any, within: float = 10.0
) -> list[dict[str, Any]]:
    """The stored messages once `done(messages)` holds: the server finishes a stopped answer on
    its own schedule, after it noticed the client left."""
    for _ in range(int(within / 0.05)):
        messages = await stored(site, token, conversation)
        if done(messages):
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"the stored messages never reached the expected state: {messages}")

"""The chat page as a whole: every control named for screen readers (and for these tests), the
message list a live region, Chinese and the dark theme, a 100 KB answer that streams to its end
without the page falling behind, and a long conversation rendered a window at a time."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.chat_steps import answered, send, signed_in
from tests.browser.support import Site
from tests.support.upstream import Reply, ToolCallReply

NAMED = re.compile(r"\S")


async def test_every_control_has_an_accessible_name(site: Site, page: Page) -> None:
    await signed_in(page, site)
    site.upstream.push(
        Reply(tool_calls=[ToolCallReply(name="calculate", arguments='{"expression": "1+1"}')]),
        Reply(text="Two.\n\n```js\nconsole.log(2)\n```"),
    )
    await send(page, "One plus one?")
    await answered(page)
    await expect(page.get_by_role("region", name="Messages")).to_have_attribute("aria-live", "polite")
    for role in ("button", "link", "textbox", "combobox", "searchbox"):
        for control in await page.get_by_role(role).all():
            await expect(control).to_have_accessible_name(NAMED)


async def test_the_page_in_chinese_and_dark(site: Site, page: Page) -> None:
    await signed_in(page, site)
    await page.get_by_role("button", name="Language / 语言").click()
    await expect(page.get_by_role("textbox", name="消息")).to_be_visible()
    await expect(page.get_by_role("button", name="发送")).to_be_visible()
    await expect(page.get_by_role("link", name="新对话")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    site.upstream.push(Reply(text="你好！"))
    await page.get_by_role("textbox", name="消息").fill("你好")
    await page.get_by_role("button", name="发送").click()
    await expect(page.get_by_role("button", name="重新生成")).to_be_visible()
    await expect(page.get_by_role("article", name="助手")).to_contain_text("你好！")

    theme = page.get_by_role("button", name=re.compile("^主题"))
    for _ in range(3):
        if await page.evaluate("document.documentElement.dataset.theme") == "dark":
            break
        await theme.click()
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
    background = await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(22, 24, 28)", background


async def test_a_100_kb_answer_streams_to_its_end(site: Site, page: Page) -> None:
    await signed_in(page, site)
    lines = [f"Line {number}: " + "lorem ipsum dolor sit amet " * 3 for number in range(1, 1201)]
    text = "\n\n".join(lines) + "\n\nTHE END"
    assert len(text) > 100_000
    site.upstream.push(Reply(text=text, chunks=2000))
    await send(page, "Write a lot")
    answer = await answered(page)
    await expect(answer.get_by_text("THE END")).to_be_visible()
    await expect(answer.get_by_text("Line 600:", exact=False)).to_have_count(1)


async def test_a_long_conversation_renders_its_latest_messages_first(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    made = await site.api("POST", "/api/conversations", json={"title": "Long talk"}, token=token)
    conversation = made.json["data"]["id"]
    for number in range(1, 31):  # 60 messages: more than one window of 50
        site.upstream.push(Reply(text=f"Answer {number}"))
        sent = await site.api("POST", "/api/messages", token=token,
                              json={"conversation_id": conversation, "content": f"Question {number}"})
        assert sent.status == 200, sent.json
    await page.goto(f"/c/{conversation}")
    shown = page.get_by_role("region", name="Messages").get_by_role("article")
    await expect(shown).to_have_count(50)
    await expect(shown.last).to_contain_text("Answer 30")
    await expect(shown.first).to_contain_text("Question 6")
    await page.get_by_role("button", name="Load earlier messages").click()
    await expect(shown).to_have_count(60)
    await expect(shown.first).to_contain_text("Question 1")
    await expect(page.get_by_role("button", name="Load earlier messages")).to_have_count(0)

"""The README's screenshots: the chat page and the admin console's usage, taken from a real server
with a few turns made through the API. Normal runs save them in the test's tmp dir (and check the
screens show what they should); with WEB_SCREENSHOTS=1 they are written to docs/screenshots/ —
run that by hand when the look changes, and commit the pictures as documentation."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.support import Site, login, unique
from tests.support.upstream import Reply

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ANSWER = """Here is a function that reverses the words of a sentence:

```python
def reverse_words(sentence: str) -> str:
    return " ".join(reversed(sentence.split()))
```

| input | output |
|---|---|
| `hello big world` | `world big hello` |

It splits on any run of whitespace, so extra spaces disappear."""


def destination(tmp_path: Path) -> Path:
    if os.environ.get("WEB_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path


async def turn(site: Site, token: str, conversation: str, content: str, reply: Reply, model: str) -> None:
    site.upstream.push(reply)
    made = await site.api("POST", "/api/messages", token=token,
                          json={"conversation_id": conversation, "content": content, "model": model})
    assert made.status == 200, made.json


async def conversation(site: Site, token: str, title: str) -> str:
    made = await site.api("POST", "/api/conversations", json={"title": title}, token=token)
    assert made.status in (200, 201), made.json
    return str(made.json["data"]["id"])


async def test_screenshots_of_the_chat_page_and_the_usage_charts(site: Site, page: Page, tmp_path: Path) -> None:
    folder = destination(tmp_path)
    name = unique("mei")
    token = await site.create_user(name)
    for title in ("Trip to Kyoto", "Quarterly report outline"):
        await conversation(site, token, title)
    chat = await conversation(site, token, "Reverse the words")
    await turn(site, token, chat, "Write a Python function that reverses the words of a sentence.",
               Reply(text=ANSWER, usage=(820, 190)), "gpt-test")
    other = unique("leo")
    other_token = await site.create_user(other)
    elsewhere = await conversation(site, other_token, "Photo caption")
    await turn(site, other_token, elsewhere, "Describe this photo.", Reply(text="A cat.", usage=(2400, 60)),
               "gpt-vision")
    await turn(site, other_token, elsewhere, "Shorter.", Reply(text="Cat.", usage=(2500, 5)), "gpt-vision")

    await login(page, site, name)
    await page.goto(f"/c/{chat}")
    answer = page.get_by_role("article", name="Assistant")
    await expect(answer.get_by_role("table")).to_be_visible()
    await expect(answer.get_by_role("button", name="Copy code")).to_be_visible()
    await page.screenshot(path=str(folder / "chat.png"))

    admin = unique("admin")
    await site.create_user(admin, admin=True)
    await page.get_by_role("button", name="Log out").click()
    await login(page, site, admin)
    await page.goto("/admin/usage")
    await page.get_by_label("Period").select_option(label="Last 7 days")
    by_user = page.get_by_role("figure", name=re.compile("^Tokens by user"))
    await expect(by_user.get_by_role("img")).to_contain_text(other)
    await expect(page.get_by_role("figure", name=re.compile("^Tokens by model")).get_by_role("img")).to_contain_text(
        "gpt-vision")
    await page.screenshot(path=str(folder / "admin-usage.png"), full_page=True)

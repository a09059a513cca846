"""The chat page streams an answer: token by token, as markdown with a highlighted code block and
its Copy button, reasoning in a collapsible block, tool calls as cards; Stop keeps the partial
answer, marked interrupted on the page and in the database; logging out ends the session."""

from __future__ import annotations

import asyncio
import json

from playwright.async_api import Page, expect

from tests.browser.chat_steps import answered, answers, conversation_id, send, signed_in, stored, stored_when
from tests.browser.support import DEFAULT_ALLOWANCE, Site
from tests.support.upstream import Reply, ToolCallReply

PIECES = ["Here is **bold** text.\n\n", "```python\nprint('hi')\n```\n\n", "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
          "- first\n- second\n"]


async def test_a_new_conversation_streams_markdown_token_by_token(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    await expect(page.get_by_role("combobox", name="Model")).to_be_visible()
    await page.get_by_role("combobox", name="Model").select_option("gpt-vision")
    await page.get_by_role("textbox", name="System prompt").fill("Answer like a pirate.")
    gate = asyncio.Event()
    site.upstream.push(Reply(text="".join(PIECES), chunks=PIECES, gate=gate, gate_after=2))
    await send(page, "Show me some markdown")

    answer = answers(page).last
    await expect(answer).to_contain_text("Here is")  # the first pieces, while the rest is held back
    await expect(page.get_by_role("button", name="Stop")).to_be_visible()
    await expect(answer.get_by_role("button", name="Copy code")).to_have_count(0)
    gate.set()

    answer = await answered(page)
    await expect(answer.get_by_role("strong")).to_have_text("bold")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await answer.get_by_role("button", name="Copy code").click()
    await expect(answer.get_by_role("button", name="Copy code")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == "print('hi')"
    await expect(answer.get_by_role("code").filter(has_text="print")).to_be_visible()
    await expect(answer.get_by_role("cell", name="2")).to_be_visible()
    await expect(answer.get_by_role("listitem")).to_have_text(["first", "second"])
    await expect(page.get_by_role("link", name="Show me some markdown")).to_be_visible()  # in the list

    sent = site.upstream.last.json
    assert sent["model"] == "gpt-vision"
    assert sent["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    messages = await stored(site, token, conversation_id(page))
    assert [(m["role"], m["status"]) for m in messages] == [("user", "completed"), ("assistant", "completed")]
    used = messages[-1]["usage"]
    usage = page.get_by_role("status", name="Token usage")
    prompt, completion = used["prompt_tokens"], used["completion_tokens"]
    await expect(usage).to_contain_text(f"This conversation: {prompt} in / {completion} out")
    left = DEFAULT_ALLOWANCE - prompt - completion
    await expect(usage).to_contain_text(f"{left:,} tokens left")


async def test_reasoning_is_a_collapsible_block(site: Site, page: Page) -> None:
    await signed_in(page, site)
    site.upstream.push(Reply(reasoning="First, count the legs of the cat.", text="Four."))
    await send(page, "How many legs?")
    answer = await answered(page)
    await expect(answer).to_contain_text("Four.")
    thoughts = answer.get_by_text("First, count the legs of the cat.")
    await expect(thoughts).to_be_hidden()  # folded once the answer is written
    await answer.get_by_text("Reasoning", exact=True).click()
    await expect(thoughts).to_be_visible()


async def test_a_tool_call_is_a_card_with_its_arguments_and_result(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    site.upstream.push(
        Reply(tool_calls=[ToolCallReply(name="calculate", arguments='{"expression": "6*7"}')]),
        Reply(text="It is **42**."),
    )
    await send(page, "What is 6*7?")
    await answered(page)
    card = page.get_by_role("region", name="Tool call: calculate")
    await expect(card).to_contain_text("finished")
    await card.get_by_text("Arguments").click()
    await expect(card).to_contain_text('"expression": "6*7"')
    await card.get_by_text("Result").click()
    await expect(card).to_contain_text("42")
    await expect(answers(page).last).to_contain_text("It is 42.")
    messages = await stored(site, token, conversation_id(page))
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]


async def test_stop_keeps_the_partial_answer_as_interrupted(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    gate = asyncio.Event()  # never set: the model "hangs" after its first words
    pieces = ["The beginning ", "of a very ", "long story"]
    site.upstream.push(Reply(text="".join(pieces), chunks=pieces, gate=gate, gate_after=2))
    await send(page, "Tell me a long story")
    answer = answers(page).last
    await expect(answer).to_contain_text("The beginning")
    await page.get_by_role("button", name="Stop").click()

    await expect(answer).to_contain_text("Interrupted")
    await expect(page.get_by_role("button", name="Send")).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_count(0)  # stopping is not an error
    messages = await stored_when(site, token, conversation_id(page), lambda ms: ms[-1]["status"] != "streaming")
    assert messages[-1]["status"] == "interrupted"
    assert messages[-1]["content"].startswith("The beginning")

    await page.reload()  # the mark comes from the server too
    await expect(answers(page).last).to_contain_text("Interrupted")
    await expect(answers(page).last).to_contain_text("The beginning")


async def test_logout_ends_the_session(site: Site, page: Page) -> None:
    await signed_in(page, site)
    saved = json.loads(await page.evaluate("sessionStorage.getItem('switchboard.session')"))
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('switchboard.session')") is None
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # not remembered
    answer = await site.api("GET", "/api/auth/me", token=saved["token"])
    assert answer.status == 401  # the page's token was revoked on the server, not only forgotten

"""What a person does with turns and conversations on the chat page: regenerate the last answer,
edit and resend the last question, attach an image (button) and a file (drag and drop), rename and
delete a conversation."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.browser.chat_steps import answered, answers, conversation_id, send, signed_in, stored
from tests.browser.support import Site
from tests.support.upstream import PNG_PIXEL, Reply


def user_texts(request: Any) -> list[Any]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


async def test_regenerate_replaces_the_last_answer(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    site.upstream.push(Reply(text="A first, poor answer."), Reply(text="A better answer."))
    await send(page, "Explain tides")
    await expect(await answered(page)).to_contain_text("A first, poor answer.")

    await page.get_by_role("button", name="Regenerate").click()
    await expect(await answered(page)).to_contain_text("A better answer.")
    await expect(answers(page)).to_have_count(1)
    assert user_texts(site.upstream.last.json) == ["Explain tides"]  # asked again, not twice
    messages = await stored(site, token, conversation_id(page))
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "Explain tides"), ("assistant", "A better answer.")]


async def test_edit_and_resend_the_last_question(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    site.upstream.push(Reply(text="Paris."), Reply(text="Rome."))
    await send(page, "Capital of France?")
    await answered(page)

    await page.get_by_role("button", name="Edit").click()
    await page.get_by_role("textbox", name="Edit your message").fill("Capital of Italy?")
    await page.get_by_role("button", name="Send edited message").click()
    await expect(await answered(page)).to_contain_text("Rome.")
    mine = page.get_by_role("article", name="You")
    await expect(mine).to_have_count(1)
    await expect(mine).to_contain_text("Capital of Italy?")
    assert user_texts(site.upstream.last.json) == ["Capital of Italy?"]
    messages = await stored(site, token, conversation_id(page))
    assert [m["content"] for m in messages] == ["Capital of Italy?", "Rome."]


async def test_an_attached_image_reaches_the_provider_as_an_image_part(site: Site, page: Page) -> None:
    await signed_in(page, site)
    await page.get_by_role("combobox", name="Model").select_option("gpt-vision")
    async with page.expect_file_chooser() as chosen:
        await page.get_by_role("button", name="Attach file").click()
    await (await chosen.value).set_files(files=[{"name": "pixel.png", "mimeType": "image/png", "buffer": PNG_PIXEL}])
    await expect(page.get_by_role("button", name="Remove pixel.png")).to_be_visible()
    await expect(page.get_by_role("button", name="Send")).to_be_enabled()  # uploaded
    site.upstream.push(Reply(text="A single pixel."))
    await send(page, "What is in this picture?")

    await expect(await answered(page)).to_contain_text("A single pixel.")
    await expect(page.get_by_role("article", name="You").get_by_role("img", name="pixel.png")).to_be_visible()
    content = site.upstream.last.json["messages"][-1]["content"]
    assert {"type": "text", "text": "What is in this picture?"} in content
    images = [part for part in content if part["type"] == "image_url"]
    assert len(images) == 1 and images[0]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_a_pasted_image_is_attached(site: Site, page: Page) -> None:
    await signed_in(page, site)
    await page.get_by_role("textbox", name="Message").evaluate(
        "(box, bytes) => { const data = new DataTransfer();"
        " data.items.add(new File([new Uint8Array(bytes)], 'clip.png', { type: 'image/png' }));"
        " box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })); }",
        list(PNG_PIXEL),
    )
    await expect(page.get_by_role("button", name="Remove clip.png")).to_be_visible()
    await expect(page.get_by_role("button", name="Send")).to_be_enabled()  # uploaded: a picture alone may go
    await page.get_by_role("button", name="Remove clip.png").click()
    await expect(page.get_by_role("button", name="Remove clip.png")).to_have_count(0)


async def test_a_file_dropped_on_the_composer_is_attached(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    dropped = await page.evaluate_handle(
        "() => { const data = new DataTransfer();"
        " data.items.add(new File(['meeting at noon'], 'notes.txt', { type: 'text/plain' })); return data; }"
    )
    await page.get_by_role("textbox", name="Message").dispatch_event("drop", {"dataTransfer": dropped})
    await expect(page.get_by_role("button", name="Remove notes.txt")).to_be_visible()
    await expect(page.get_by_role("button", name="Send")).to_be_enabled()
    await send(page, "Summarise the file")
    await answered(page)
    await expect(page.get_by_role("article", name="You").get_by_role("button", name="notes.txt")).to_be_visible()
    messages = await stored(site, token, conversation_id(page))
    assert [f["name"] for f in messages[0]["files"]] == ["notes.txt"]


async def test_rename_and_delete_a_conversation(site: Site, page: Page) -> None:
    token = await signed_in(page, site)
    for question in ("About cats", "About dogs"):
        await page.get_by_role("link", name="New chat").click()
        await send(page, question)
        await answered(page)
    dogs = conversation_id(page)
    listed = page.get_by_role("navigation", name="Conversations").get_by_role("listitem")
    await expect(listed).to_have_count(2)
    await expect(listed.first).to_contain_text("About dogs")  # newest first

    await page.get_by_role("button", name="Rename “About cats”").click()
    await page.get_by_role("textbox", name="New title").fill("Feline facts")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("link", name="Feline facts")).to_be_visible()

    await page.get_by_role("button", name="Delete “About dogs”").click()
    dialog = page.get_by_role("dialog", name="Delete conversation")
    await expect(dialog).to_contain_text("Delete “About dogs” and all its messages?")
    await dialog.get_by_role("button", name="Delete").click()
    await expect(listed).to_have_count(1)
    await expect(page.get_by_role("heading", name="New chat")).to_be_visible()  # it was open: gone
    left = await site.api("GET", "/api/conversations", token=token)
    assert [c["title"] for c in left.json["data"]["items"]] == ["Feline facts"]
    assert (await site.api("GET", f"/api/conversations/{dogs}", token=token)).status == 404

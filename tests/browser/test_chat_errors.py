"""When things go wrong the chat page says so (role=alert) and never goes blank: an exhausted
allowance, a failing provider, the network lost mid-answer (the conversation comes back from the
server once online). Hostile model output and titles stay inert text; an image in an answer is
shown inline when it travels inside the answer, and is a link (never fetched) when it is remote."""

from __future__ import annotations

import asyncio
import base64

from playwright.async_api import Page, expect

from tests.browser.chat_steps import answered, answers, conversation_id, send, signed_in, stored_when
from tests.browser.support import Site, login, unique
from tests.support.upstream import PNG_PIXEL, Reply


async def test_an_exhausted_allowance_is_told_and_the_draft_kept(site: Site, page: Page) -> None:
    name = unique("broke")
    token = await site.create_user(name)
    me = await site.api("GET", "/api/auth/me", token=token)
    admin = await site.create_user(unique("root"), admin=True)
    patched = await site.api("PATCH", f"/api/admin/users/{me.json['data']['id']}", json={"token_allowance": 1},
                             token=admin)
    assert patched.status == 200, patched.json
    await login(page, site, name)
    await expect(page.get_by_role("status", name="Token usage")).to_contain_text("1 tokens left")

    await send(page, "Write me an essay")
    await expect(page.get_by_role("alert")).to_contain_text("Your token allowance is used up")
    await expect(page.get_by_role("textbox", name="Message")).to_have_value("Write me an essay")


async def test_a_failing_provider_is_told_and_the_answer_marked(site: Site, page: Page) -> None:
    await signed_in(page, site)
    site.upstream.push(Reply(status=502))
    await send(page, "Hello?")
    await expect(page.get_by_role("alert")).to_contain_text("The model provider failed to answer")
    await expect(answers(page).last).to_contain_text("Failed")
    await expect(page.get_by_role("button", name="Regenerate")).to_be_visible()  # try again from here
    site.upstream.push(Reply(text="Back again."))
    await page.get_by_role("button", name="Regenerate").click()
    await expect(await answered(page)).to_contain_text("Back again.")
    await expect(page.get_by_role("alert")).to_have_count(0)


# The browser has no switch that breaks a response already streaming (offline mode only stops new
# requests), so the page's fetch is wrapped: `cutStreams()` errors every answer stream as a dropped
# connection does, which also closes the request to the server.
CUTTABLE_STREAMS = """
const fetchFirst = window.fetch;
const cuts = [];
window.cutStreams = () => cuts.splice(0).forEach((cut) => cut());
window.fetch = async (input, init) => {
  const response = await fetchFirst(input, init);
  if (!String(input).includes('/api/messages/stream') || !response.body) return response;
  const cutter = new TransformStream({
    start(controller) { cuts.push(() => controller.error(new TypeError('network error'))); },
  });
  return new Response(response.body.pipeThrough(cutter), { status: response.status, headers: response.headers });
};
"""


async def test_a_lost_connection_resumes_the_answer_where_it_broke(site: Site, page: Page) -> None:
    await page.add_init_script(script=CUTTABLE_STREAMS)
    token = await signed_in(page, site)
    gate = asyncio.Event()  # the model stays silent after its first words, until the stream is cut
    pieces = ["Words that ", "made it ", "and words that came later"]
    site.upstream.push(Reply(text="".join(pieces), chunks=pieces, gate=gate, gate_after=3))
    await send(page, "Tell me something")
    await expect(answers(page).last).to_contain_text("Words that made it")

    await page.evaluate("window.cutStreams()")
    gate.set()
    # the page asks GET /api/messages/{id}/stream from its last event on: the rest arrives, once
    await expect(answers(page).last).to_contain_text("Words that made it and words that came later", timeout=15_000)
    await expect(page.get_by_role("alert")).to_have_count(0)
    messages = await stored_when(site, token, conversation_id(page), lambda ms: ms[-1]["status"] != "streaming")
    assert [(m["role"], m["status"]) for m in messages] == [("user", "completed"), ("assistant", "completed")]


async def test_hostile_answers_and_titles_stay_inert(site: Site, page: Page) -> None:
    await signed_in(page, site)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    site.upstream.push(Reply(text=(
        "Look: <img src=x onerror=alert(1)> and [click me](javascript:alert(2)) and <script>alert(3)</script>"
        " <a href=\"javascript:alert(4)\">raw link</a> <iframe src=\"javascript:alert(5)\"></iframe>"
        " ![pic](javascript:alert(6)) <b onmouseover=alert(7)>bold</b>")))
    title = "<img src=y onerror=alert(8)>"
    await send(page, title)
    answer = await answered(page)
    await expect(answer).to_contain_text("click me")
    await expect(answer).to_contain_text("<img src=x onerror=alert(1)>")  # raw HTML is shown as text
    await answer.get_by_text("click me").click()
    await answer.get_by_text("raw link").click()
    await answer.get_by_text("bold").hover()

    await expect(page.get_by_role("heading", name=title)).to_be_visible()  # the title is text
    await expect(page.get_by_role("article", name="You")).to_contain_text(title)
    for attribute in ("onerror", "onmouseover", "srcdoc"):
        await expect(page.locator(f"[{attribute}]")).to_have_count(0)
    await expect(page.locator("[href^='javascript:' i], [src^='javascript:' i]")).to_have_count(0)
    await expect(page.locator("iframe, script:not([src])")).to_have_count(0)
    assert dialogs == []


async def test_images_in_answers_inline_or_as_links(site: Site, page: Page) -> None:
    await signed_in(page, site)
    pixel = "data:image/png;base64," + base64.b64encode(PNG_PIXEL).decode()
    site.upstream.push(Reply(text=f"A chart: ![the chart]({pixel}) and a remote one: ![far away](https://example.org/x.png)"))
    await send(page, "Draw something")
    answer = await answered(page)
    await expect(answer.get_by_role("img", name="the chart")).to_be_visible()
    await expect(answer.get_by_role("img", name="the chart")).to_have_js_property("naturalWidth", 1)
    await expect(answer.get_by_role("img", name="far away")).to_have_count(0)
    await expect(answer.get_by_role("link", name="far away")).to_have_attribute("href", "https://example.org/x.png")

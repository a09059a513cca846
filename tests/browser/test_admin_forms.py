"""The admin console's forms in a real browser: an MCP server added, edited and deleted through the
page; a chat profile created, edited and deleted; the console in Chinese and on a phone-sized
screen (375 px: nothing wider than the screen but the tables' own scrolling); every control of
every screen and dialog named, every table with column headers."""

from __future__ import annotations

import re
import sys

from playwright.async_api import Page, expect

from tests.browser.admin_support import MCP_STARTS_MS, as_admin
from tests.browser.support import Site, unique
from tests.support.mcp_servers import TEST_SERVER_SCRIPT

NAMED = re.compile(r"\S")


async def test_an_mcp_server_is_added_edited_and_deleted_by_the_form(site: Site, page: Page) -> None:
    token = await as_admin(page, site)
    server = unique("tools")
    await page.goto("/admin/mcp")
    await page.get_by_role("button", name="Add MCP server").click()
    form = page.get_by_role("dialog", name="New MCP server")
    await form.get_by_label("Name").fill("bad name")
    await form.get_by_label("Command").fill(sys.executable)
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("alert")).to_contain_text("Name")
    await form.get_by_label("Name").fill(server)
    await form.get_by_label("Arguments (one per line)").fill(f"{TEST_SERVER_SCRIPT}\nstdio")
    await form.get_by_label("Environment (KEY=value, one per line)").fill("TEST_TOKEN=secret-value")
    await form.get_by_role("button", name="Save").click()
    await expect(form).to_be_hidden(timeout=MCP_STARTS_MS)
    try:
        row = page.get_by_role("row", name=re.compile(f"^{server}"))
        await expect(row).to_contain_text("connected", timeout=MCP_STARTS_MS)

        await page.get_by_role("button", name=f"Edit {server}").click()
        edit = page.get_by_role("dialog", name=f"Edit MCP server “{server}”")
        await expect(edit.get_by_label("Environment (KEY=value, one per line)")).to_have_value("TEST_TOKEN=***")
        await edit.get_by_label("Description").fill("the test server")
        await edit.get_by_role("button", name="Save").click()
        await expect(edit).to_be_hidden(timeout=MCP_STARTS_MS)
        await expect(row).to_contain_text("the test server")
        listed = await site.api("GET", "/api/admin/mcp", token=token)
        entry = next(s for s in listed.json["data"] if s["name"] == server)
        assert entry["config"]["env"] == {"TEST_TOKEN": "***"}  # the secret was kept, never shown

        await page.get_by_role("button", name=f"Delete {server}").click()
        await page.get_by_role("dialog", name="Delete MCP server").get_by_role("button", name="Delete").click()
        await expect(row).to_have_count(0)
    finally:
        await site.api("DELETE", f"/api/admin/mcp/{server}", token=token)


async def test_a_chat_profile_is_created_edited_and_deleted(site: Site, page: Page) -> None:
    await as_admin(page, site)
    profile = unique("helper")
    await page.goto("/admin/profiles")
    await page.get_by_role("button", name="New profile").click()
    form = page.get_by_role("dialog", name="New chat profile")
    await form.get_by_label("Name").fill(profile)
    await form.get_by_label("Model").fill("gpt-test")
    await form.get_by_label("System prompt").fill("You answer <b>briefly</b>.")
    await form.get_by_label("Temperature (0–2, empty = default)").fill("3")
    await form.get_by_role("button", name="Create").click()
    await expect(form.get_by_role("alert")).to_contain_text("Temperature")
    await form.get_by_label("Temperature (0–2, empty = default)").fill("0.4")
    await form.get_by_role("button", name="Create").click()
    await expect(form).to_be_hidden()
    row = page.get_by_role("row", name=re.compile(f"^{profile}"))
    await expect(row).to_contain_text("You answer <b>briefly</b>.")
    await expect(row).to_contain_text("0.4")

    await page.get_by_role("button", name=f"Edit {profile}").click()
    edit = page.get_by_role("dialog", name=f"Edit profile “{profile}”")
    await expect(edit.get_by_label("Model")).to_have_value("gpt-test")
    await edit.get_by_label("Temperature (0–2, empty = default)").fill("")
    await edit.get_by_role("button", name="Save").click()
    await expect(edit).to_be_hidden()
    await expect(row).not_to_contain_text("0.4")

    await page.get_by_role("button", name=f"Delete {profile}").click()
    await page.get_by_role("dialog", name="Delete chat profile").get_by_role("button", name="Delete").click()
    await expect(row).to_have_count(0)


async def test_the_console_speaks_chinese(site: Site, page: Page) -> None:
    await as_admin(page, site)
    await page.goto("/admin/users")
    await page.get_by_role("button", name="Language / 语言").click()
    sections = page.get_by_role("navigation", name="管理分区")
    await expect(sections.get_by_role("link", name="用户")).to_be_visible()
    await sections.get_by_role("link", name="用量").click()
    await expect(page.get_by_label("时间范围")).to_be_visible()
    await page.get_by_role("link", name="API 密钥").click()
    await expect(page.get_by_role("button", name="创建密钥")).to_be_visible()


async def test_the_console_fits_a_phone(site: Site, page: Page) -> None:
    await page.set_viewport_size({"width": 375, "height": 740})
    await as_admin(page, site)
    for path, heading in [("/admin/users", "Users"), ("/admin/usage", "Usage"), ("/admin/mcp", "MCP servers"),
                          ("/admin/settings", "Settings"), ("/keys", "API keys")]:
        await page.goto(path)
        await expect(page.get_by_role("heading", name=re.compile(f"{heading}$"))).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide"
    await page.goto("/admin/users")
    await page.get_by_role("button", name="Create user").click()
    form = page.get_by_role("dialog", name="New user")
    box = await form.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    await expect(form.get_by_label("Username")).to_be_focused()


async def every_control_named(page: Page) -> None:
    for role in ("button", "link", "textbox", "combobox", "searchbox", "checkbox", "spinbutton"):
        for control in await page.get_by_role(role).all():
            await expect(control).to_have_accessible_name(NAMED)
    for table in await page.get_by_role("table").all():
        await expect(table.get_by_role("columnheader").first).to_be_visible()


async def test_every_admin_control_is_named_and_every_table_has_headers(site: Site, page: Page) -> None:
    token = await as_admin(page, site)
    assert (await site.api("POST", "/api/keys", json={"name": "named"}, token=token)).status == 201
    screens = [("/admin/users", "Create user", "New user"), ("/admin/usage", None, None),
               ("/admin/models", None, None), ("/admin/mcp", "Add MCP server", "New MCP server"),
               ("/admin/profiles", "New profile", "New chat profile"), ("/admin/settings", None, None),
               ("/keys", "Create key", "New API key")]
    for path, opens, dialog in screens:
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await expect(page.get_by_role("status")).to_have_count(0)  # loaded
        await every_control_named(page)
        if opens and dialog:
            await page.get_by_role("button", name=opens).click()
            await expect(page.get_by_role("dialog", name=dialog)).to_be_visible()
            await every_control_named(page)

"""The rest of the admin console in a real browser: an MCP server (configured through the API) is
disabled and enabled again; the usage charts show a turn just made; the providers and their models;
everyone's keys with their owners; a runtime setting changed and put back."""

from __future__ import annotations

import re
import sys

from playwright.async_api import Page, expect

from tests.browser.admin_support import MCP_STARTS_MS, as_admin
from tests.browser.support import Site, unique
from tests.support.mcp_servers import TEST_SERVER_SCRIPT
from tests.support.upstream import Reply


async def test_an_admin_disables_and_enables_an_mcp_server(site: Site, page: Page) -> None:
    token = await as_admin(page, site)
    server = unique("mcp")
    entry = {"command": sys.executable, "args": [str(TEST_SERVER_SCRIPT), "stdio"], "description": "<b>test</b> tools"}
    saved = await site.api("PUT", f"/api/admin/mcp/{server}", json=entry, token=token)
    assert saved.status == 200, saved.json
    try:
        await page.goto("/admin/mcp")
        row = page.get_by_role("row", name=re.compile(f"^{server}"))
        await expect(row).to_contain_text("connected", timeout=MCP_STARTS_MS)
        await expect(row).to_contain_text("<b>test</b> tools")  # shown as text, not markup
        await row.get_by_text("6 tools").click()
        await expect(page.get_by_role("list", name=f"Tools of {server}")).to_contain_text(f"{server}__add")

        await page.get_by_role("button", name=f"Disable {server}").click()
        await expect(row).to_contain_text("disabled")
        await expect(page.get_by_role("button", name=f"Enable {server}")).to_be_visible()
        listed = await site.api("GET", "/api/admin/mcp", token=token)
        assert {s["name"]: s["state"] for s in listed.json["data"]}[server] == "disabled"

        await page.get_by_role("button", name=f"Enable {server}").click()
        await expect(row).to_contain_text("connected", timeout=MCP_STARTS_MS)
    finally:
        await site.api("DELETE", f"/api/admin/mcp/{server}", token=token)


async def test_the_usage_charts_show_a_turn_just_made(site: Site, page: Page) -> None:
    await as_admin(page, site)
    name = unique("chatter")
    token = await site.create_user(name)
    conversation = await site.api("POST", "/api/conversations", json={"title": "usage"}, token=token)
    site.upstream.push(Reply(text="counted", usage=(1200, 34)))
    turn = await site.api("POST", "/api/messages", json={
        "conversation_id": conversation.json["data"]["id"], "content": "count me", "model": "gpt-test"}, token=token)
    assert turn.status == 200, turn.json

    await page.goto("/admin/usage")
    await page.get_by_label("Period").select_option(label="Last 7 days")
    by_user = page.get_by_role("figure", name=re.compile("^Tokens by user"))
    await expect(by_user.get_by_role("img")).to_contain_text(name)
    await by_user.get_by_text("Show the numbers").click()
    await expect(by_user.get_by_role("row", name=name)).to_contain_text("1,234")
    await expect(page.get_by_role("figure", name=re.compile("^Tokens by model")).get_by_role("img")).to_contain_text(
        "gpt-test")
    by_day = page.get_by_role("figure", name=re.compile("^Tokens by day"))
    await expect(by_day.get_by_role("img")).to_be_visible()
    await expect(page.get_by_role("heading", name="Totals")).to_be_visible()


async def test_providers_their_models_and_health(site: Site, page: Page) -> None:
    await as_admin(page, site)
    await page.goto("/admin/models")
    row = page.get_by_role("row", name=re.compile("^scripted"))
    await expect(row).to_contain_text("gpt-test")
    await expect(row).to_contain_text("gpt-vision")
    await expect(row).to_contain_text("healthy")


async def test_an_admin_sees_everyones_keys_with_their_owner(site: Site, page: Page) -> None:
    owner = unique("owner")
    token = await site.create_user(owner)
    made = await site.api("POST", "/api/keys", json={"name": f"{owner}-ci"}, token=token)
    assert made.status == 201, made.json
    await as_admin(page, site)
    await page.get_by_role("link", name="API keys").click()
    everyone = page.get_by_role("table", name="Everyone’s keys")
    row = everyone.get_by_role("row", name=f"{owner}-ci")
    await expect(row).to_contain_text(owner)
    await row.get_by_role("button", name=f"Revoke {owner}-ci").click()
    await page.get_by_role("dialog", name="Revoke key").get_by_role("button", name="Revoke").click()
    await expect(row).to_contain_text("revoked")


async def test_a_runtime_setting_is_changed_and_put_back(site: Site, page: Page) -> None:
    token = await as_admin(page, site)
    await page.goto("/admin/settings")
    await expect(page.get_by_role("combobox", name="registration")).to_have_value("open")  # a fixed choice
    field = page.get_by_label("tool_rounds")
    before = await field.input_value()
    try:
        await field.fill("3")
        await page.get_by_role("button", name="Save settings").click()
        await expect(page.get_by_role("status")).to_have_text("Settings saved.")
        assert (await site.api("GET", "/api/admin/settings", token=token)).json["data"]["tool_rounds"] == 3
        await field.fill("-1")
        await page.get_by_role("button", name="Save settings").click()
        await expect(page.get_by_role("alert")).to_contain_text("tool_rounds")
    finally:
        await site.api("PUT", "/api/admin/settings", json={"tool_rounds": int(before)}, token=token)

"""The admin console's users in a real browser: create a user, add to and set their allowance,
deactivate and reactivate them, make them an administrator with unlimited tokens, reset their
password; a user who is not an administrator sees no admin navigation, and /admin shows not-found
(the server refuses the API to them as well); tokens held by a call that will never finish are
released."""

from __future__ import annotations

import asyncio
import re

import httpx
from playwright.async_api import Page, expect

from tests.browser.admin_support import as_admin
from tests.browser.support import PASSWORD, Site, login, unique
from tests.support.upstream import Reply


async def test_an_admin_creates_a_user_and_adds_to_their_allowance(site: Site, page: Page) -> None:
    token = await as_admin(page, site)
    await page.get_by_role("link", name="Admin").click()
    await expect(page.get_by_role("heading", name="Users")).to_be_visible()

    name = unique("carol")
    await page.get_by_role("button", name="Create user").click()
    form = page.get_by_role("dialog", name="New user")
    await form.get_by_label("Username").fill("no spaces allowed")
    await form.get_by_label("Password", exact=True).fill(PASSWORD)
    await form.get_by_role("button", name="Create").click()
    await expect(form.get_by_role("alert")).to_contain_text("username must be")  # the server's own words
    await form.get_by_label("Username").fill(name)
    await form.get_by_label("Password", exact=True).fill(PASSWORD)
    await form.get_by_label("Token allowance").fill("1000")
    await form.get_by_role("button", name="Create").click()
    await expect(form).to_be_hidden()

    await page.get_by_role("searchbox", name="Search users").fill(name)
    row = page.get_by_role("row", name=name)
    await expect(row).to_contain_text("1,000")
    await page.get_by_role("button", name=f"Manage {name}").click()
    user = page.get_by_role("dialog", name=f"User “{name}”")
    await user.get_by_label("Tokens to add").fill("500")
    await user.get_by_role("button", name="Add tokens").click()
    await expect(user.get_by_role("status")).to_have_text("Saved.")
    await expect(user).to_contain_text("1,500")
    await user.get_by_label("New allowance").fill("abc")
    await user.get_by_role("button", name="Set allowance").click()
    await expect(user.get_by_role("alert")).to_be_visible()
    await user.get_by_label("New allowance").fill("2000")
    await user.get_by_role("button", name="Set allowance").click()
    await expect(user).to_contain_text("2,000")
    await user.get_by_role("button", name="Close").click()
    await expect(row).to_contain_text("2,000")

    listed = await site.api("GET", f"/api/admin/users?q={name}", token=token)
    assert listed.json["data"]["items"][0]["token_allowance"] == 2000
    assert (await site.token(name)) != ""  # the account logs in with the password given


async def test_an_admin_deactivates_promotes_unlimits_and_resets_a_password(site: Site, page: Page) -> None:
    name = unique("dave")
    await site.create_user(name)
    token = await as_admin(page, site)
    await page.goto("/admin/users")
    await page.get_by_role("searchbox", name="Search users").fill(name)
    await page.get_by_role("button", name=f"Manage {name}").click()
    user = page.get_by_role("dialog", name=f"User “{name}”")

    await user.get_by_role("button", name="Deactivate").click()
    confirm = page.get_by_role("dialog", name="Deactivate user")
    await confirm.get_by_role("button", name="Deactivate").click()
    await expect(user.get_by_role("button", name="Reactivate")).to_be_visible()
    answer = await site.api("POST", "/api/auth/login", json={"username": name, "password": PASSWORD})
    assert answer.status in (401, 403), answer.json
    await user.get_by_role("button", name="Reactivate").click()
    await expect(user.get_by_role("button", name="Deactivate")).to_be_visible()

    await user.get_by_label("Role").select_option(label="administrator")
    await expect(user.get_by_role("status")).to_have_text("Saved.")
    me = await site.api("GET", "/api/auth/me", token=await site.token(name))
    assert me.json["data"]["role"] == "admin"

    await user.get_by_role("checkbox", name="Unlimited tokens").check()
    await expect(user.get_by_role("definition").filter(has_text="unlimited")).to_have_count(2)  # allowance, left
    listed = await site.api("GET", f"/api/admin/users?q={name}", token=token)
    assert listed.json["data"]["items"][0]["unlimited"] is True

    await user.get_by_label("New password").fill("another-long-password")
    await user.get_by_role("button", name="Reset password").click()
    await expect(user.get_by_role("status")).to_contain_text("Password changed")
    assert await site.token(name, "another-long-password")


async def test_a_user_sees_no_admin_navigation_and_admin_is_not_found(site: Site, page: Page) -> None:
    name = unique("plain")
    token = await site.create_user(name)
    await login(page, site, name)
    await expect(page.get_by_role("link", name="API keys")).to_be_visible()
    await expect(page.get_by_role("link", name="Admin")).to_have_count(0)

    await page.goto("/admin/users")
    await expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Admin sections")).to_have_count(0)
    await expect(page.get_by_role("button", name="Create user")).to_have_count(0)
    assert (await site.api("GET", "/api/admin/users", token=token)).status == 403


async def test_an_unknown_admin_section_is_not_found(site: Site, page: Page) -> None:
    await as_admin(page, site)
    await page.goto("/admin/no-such-section")
    await expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()


async def test_an_admin_releases_tokens_held_by_a_call_that_hangs(site: Site, page: Page) -> None:
    name = unique("stuck")
    token = await site.create_user(name)
    made = await site.api("POST", "/api/conversations", json={"title": "stuck"}, token=token)
    gate = asyncio.Event()  # the model stops after its first words until the test lets it go
    site.upstream.push(Reply(text="never finished here", chunks=3, gate=gate, gate_after=2))
    body = {"conversation_id": made.json["data"]["id"], "content": "hold on", "model": "gpt-test"}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=site.url, timeout=60) as client, client.stream(
            "POST", "/api/messages/stream", json=body, headers=headers) as stream:
        lines = stream.aiter_lines()
        async for line in lines:  # the first words arrived: the call holds its tokens now
            if line.startswith("event: text"):
                break
        await as_admin(page, site)
        await page.goto("/admin/users")
        await page.get_by_role("searchbox", name="Search users").fill(name)
        await page.get_by_role("button", name=f"Manage {name}").click()
        user = page.get_by_role("dialog", name=f"User “{name}”")
        await user.get_by_role("button", name="Release reservations").click()
        confirm = page.get_by_role("dialog", name="Release reservations")
        await expect(confirm).to_contain_text(re.compile(r"Free the [\d,]+ tokens held for"))
        await confirm.get_by_role("button", name="Release reservations").click()
        await expect(user.get_by_role("status")).to_have_text("Saved.")
        await expect(user.get_by_role("button", name="Release reservations")).to_be_disabled()
        gate.set()
        async for _ in lines:  # the answer ends normally after the release
            pass

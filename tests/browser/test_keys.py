"""/keys, a user's own API keys in a real browser: create one with limits and an expiry and see its
secret exactly once (copied, and working), edit its limits, revoke it after confirming; a hostile key
name stays text; Escape closes a dialog; a user who is not an administrator sees only their own keys."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.support import Site, login, unique

HOSTILE = 'ci <img src=x onerror="window.pwned=1">'


async def open_keys(page: Page, site: Site) -> str:
    name = unique("keys")
    await site.create_user(name)
    await login(page, site, name)
    await page.get_by_role("link", name="API keys").click()
    await expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    return name


async def create_key(page: Page, name: str, quota: str = "", expires: str = "") -> str:
    """Creates a key through the dialog; returns the secret shown once."""
    await page.get_by_role("button", name="Create key").click()
    form = page.get_by_role("dialog", name="New API key")
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Tokens per minute").fill("2000")
    if quota:
        await form.get_by_label("Token quota").fill(quota)
    if expires:
        await form.get_by_label("Expires after (days)").fill(expires)
    await expect(form.get_by_role("checkbox", name="administration")).to_have_count(0)  # not an admin
    await form.get_by_role("checkbox", name="manage keys").check()
    await form.get_by_role("button", name="Create").click()
    shown = page.get_by_role("dialog", name="Your new API key")
    await expect(shown.get_by_text("shown only this once")).to_be_visible()
    secret = await shown.get_by_label("Secret key").input_value()
    assert secret.startswith("sb-"), secret
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await shown.get_by_role("button", name="Copy key").click()
    await expect(shown.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    await shown.get_by_role("button", name="I have stored it").click()
    await expect(shown).to_be_hidden()
    return secret


async def test_a_new_key_shows_its_secret_once_and_it_works(site: Site, page: Page) -> None:
    await open_keys(page, site)
    secret = await create_key(page, "laptop", quota="5000", expires="30")

    row = page.get_by_role("row", name="laptop")
    await expect(row).to_contain_text("quota 5,000")
    await expect(row).to_contain_text("2,000 tok/min")
    await expect(row).to_contain_text("expires")
    await expect(row).to_contain_text("chat, file, keys")
    await expect(row).to_contain_text(secret[:8])
    assert secret not in await page.content()  # gone from the page once the dialog closed
    await page.reload()
    await expect(page.get_by_role("row", name="laptop")).to_be_visible()
    assert secret not in await page.content()
    assert (await site.api("GET", "/v1/models", token=secret)).status == 200


async def test_limits_are_edited_and_a_key_is_revoked_after_confirming(site: Site, page: Page) -> None:
    await open_keys(page, site)
    secret = await create_key(page, "scripts")

    await page.get_by_role("button", name="Edit scripts").click()
    form = page.get_by_role("dialog", name="Edit key “scripts”")
    await expect(form.get_by_label("Tokens per minute")).to_have_value("2000")
    await form.get_by_label("Requests per minute").fill("0")
    await form.get_by_role("button", name="Save").click()
    await expect(form.get_by_role("alert")).to_contain_text("Requests per minute")  # refused before sending
    await form.get_by_label("Requests per minute").fill("30")
    await form.get_by_label("Tokens per minute").fill("")
    await form.get_by_role("button", name="Save").click()
    await expect(form).to_be_hidden()
    row = page.get_by_role("row", name="scripts")
    await expect(row).to_contain_text("30 req/min")
    await expect(row).not_to_contain_text("tok/min")

    await page.get_by_role("button", name="Revoke scripts").click()
    confirm = page.get_by_role("dialog", name="Revoke key")
    await expect(confirm).to_contain_text("“scripts”")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(row).to_contain_text("active")
    await page.get_by_role("button", name="Revoke scripts").click()
    await confirm.get_by_role("button", name="Revoke").click()
    await expect(row).to_contain_text("revoked")
    await expect(page.get_by_role("button", name="Revoke scripts")).to_have_count(0)
    assert (await site.api("GET", "/v1/models", token=secret)).status == 401


async def test_escape_closes_a_dialog_without_creating_anything(site: Site, page: Page) -> None:
    await open_keys(page, site)
    await page.get_by_role("button", name="Create key").click()
    form = page.get_by_role("dialog", name="New API key")
    await expect(form.get_by_label("Name")).to_be_focused()
    await page.keyboard.type("typed")
    await page.keyboard.press("Escape")
    await expect(form).to_be_hidden()
    await expect(page.get_by_text("No keys yet.")).to_be_visible()


async def test_a_hostile_key_name_is_only_text(site: Site, page: Page) -> None:
    await open_keys(page, site)
    await create_key(page, HOSTILE)
    await expect(page.get_by_role("row", name=HOSTILE)).to_be_visible()
    assert await page.locator("main img").count() == 0
    assert await page.evaluate("window.pwned") is None


async def test_a_user_sees_only_their_own_keys(site: Site, page: Page) -> None:
    other = unique("other")
    token = await site.create_user(other)
    made = await site.api("POST", "/api/keys", json={"name": f"{other}-key"}, token=token)
    assert made.status == 201, made.json
    await open_keys(page, site)
    await expect(page.get_by_role("heading", name="Your keys")).to_be_visible()
    await expect(page.get_by_role("heading", name="Everyone’s keys")).to_have_count(0)
    await expect(page.get_by_text(f"{other}-key")).to_have_count(0)
    await expect(page.get_by_text("No keys yet.")).to_be_visible()

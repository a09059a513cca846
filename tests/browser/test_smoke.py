"""The page as a browser gets it from the server: the login screen at `/`, deep links, the API's
404s still JSON, the security headers, cache headers of the hashed assets, and no errors."""

from __future__ import annotations

import gzip
import re

import httpx
from playwright.async_api import Page, expect

from tests.browser.support import Site, login, register, unique


def script_errors(console_errors: list[str]) -> list[str]:
    """Errors of the page's own code and CSP violations; an API answering 404 (a deep link to a
    conversation that does not exist) is the app's to show, and the browser logs it too."""
    return [line for line in console_errors if not line.startswith("Failed to load resource")]


async def test_the_root_shows_the_login_page(site: Site, page: Page, console_errors: list[str]) -> None:
    response = await page.goto("/")
    assert response is not None and response.ok
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await expect(page.get_by_role("button", name="Log in")).to_be_enabled()
    assert page.url.endswith("/login")
    assert script_errors(console_errors) == []


async def test_a_deep_link_opens_the_app_after_login(site: Site, page: Page, console_errors: list[str]) -> None:
    name = unique("deep")
    await register(page, site, name)
    response = await page.goto("/c/some-conversation")
    assert response is not None and response.status == 200
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.url.endswith("/c/some-conversation")
    assert script_errors(console_errors) == []


async def test_login_by_the_form(site: Site, page: Page) -> None:
    name = unique("form")
    await site.create_user(name)
    await login(page, site, name)
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def test_an_unknown_api_path_stays_a_json_404(site: Site, page: Page) -> None:
    response = await page.goto("/api/no-such-thing")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("application/json")
    assert (await response.json())["success"] is False


async def test_the_page_carries_the_security_headers(site: Site, page: Page, console_errors: list[str]) -> None:
    response = await page.goto("/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert script_errors(console_errors) == []  # a CSP violation is logged as an error


async def test_hashed_assets_are_cached_for_a_year_and_the_page_never(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as client:
        index = await client.get("/")
        assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', index.text)
        assert assets, index.text
        for asset in assets:
            answer = await client.get(asset)
            assert answer.status_code == 200
            assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert index.headers["cache-control"] == "no-cache"


async def test_the_chat_page_loads_less_than_300_kb_of_script_gzipped(site: Site, page: Page) -> None:
    """Issue 15's budget for the first load; the admin console is a chunk of its own, loaded later."""
    scripts: list[str] = []
    page.on("request", lambda request: request.resource_type == "script" and scripts.append(request.url))
    await register(page, site, unique("budget"))
    await page.wait_for_load_state("networkidle")
    async with httpx.AsyncClient() as client:
        sizes = {url: len(gzip.compress((await client.get(url)).content)) for url in scripts}
    assert scripts and not [url for url in scripts if "AdminConsole" in url]
    assert sum(sizes.values()) < 300_000, sizes

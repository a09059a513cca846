"""What the admin console's browser tests share: signing in as a fresh administrator, and how long
to wait for an MCP server's process to start."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.support import Site, login, unique

# saving or enabling an MCP server (re)starts its process: seconds on a busy two-core machine
# (the MCP host's own tests allow 20 s)
MCP_STARTS_MS = 30_000


async def as_admin(page: Page, site: Site) -> str:
    """A new administrator, signed in on the page; returns their bearer token for API calls."""
    name = unique("root")
    token = await site.create_user(name, admin=True)
    await login(page, site, name)
    return token

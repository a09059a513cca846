"""The browser tests' view of one running Switchboard: `Site` (its address, its scripted upstream,
its data folder, and API calls for setting up what a test needs) and the two ways in by the page.

    async def test_x(site: Site, page: Page) -> None:
        name = unique("alice")                      # the server is shared: every test its own users
        await register(page, site, name)            # or: await site.create_user(name); await login(...)
        site.upstream.push(Reply(text="**hi**"))    # the next chat answer
        admin = await site.create_user(unique("root"), admin=True)
        answer = await site.api("GET", "/api/admin/users", token=admin)
        assert answer.status == 200, answer.json
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from playwright.async_api import Page, expect

from tests.support.serve_process import SWITCHBOARD, free_port, until_ready
from tests.support.upstream import ScriptedUpstream

PASSWORD = "a-long-password"
BOOTSTRAP_ADMIN = "site-admin"  # made by the server at start (`admin:` setting); create_user(admin=True) uses it
BOOTSTRAP_PASSWORD = "the-bootstrap-admin-password"
MODELS = ["gpt-test", "gpt-vision"]
DEFAULT_ALLOWANCE = 100_000
_names = itertools.count(1)
_RUN = uuid.uuid4().hex[:6]


def unique(prefix: str = "user") -> str:
    """A user name no other test of this run uses (the server and its database are shared)."""
    return f"{prefix}-{_RUN}-{next(_names)}"


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    status: int
    json: Any  # the whole body (the native face's envelope: success, data, message, code)


class Site:
    def __init__(self, url: str, upstream: ScriptedUpstream, data_dir: Path) -> None:
        self.url = url
        self.upstream = upstream
        self.data_dir = data_dir
        self.log = data_dir / "server.log"  # the server's stderr: read it when a test fails oddly
        self._admin_token: str | None = None

    async def api(self, method: str, path: str, *, json: Any = None, token: str | None = None) -> ApiAnswer:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            answer = await client.request(method, path, json=json, headers=headers)
        return ApiAnswer(answer.status_code, answer.json() if answer.content else None)

    async def token(self, username: str, password: str = PASSWORD) -> str:
        answer = await self.api("POST", "/api/auth/login", json={"username": username, "password": password})
        assert answer.status == 200, f"login of {username!r} failed: {answer.json}"
        return str(answer.json["data"]["access_token"])

    async def create_user(self, username: str, password: str = PASSWORD, *, admin: bool = False) -> str:
        """Made by the bootstrap administrator (so it works while registration is closed);
        returns the new user's bearer token."""
        if self._admin_token is None:
            self._admin_token = await self.token(BOOTSTRAP_ADMIN, BOOTSTRAP_PASSWORD)
        body = {"username": username, "password": password, "role": "admin" if admin else "user"}
        made = await self.api("POST", "/api/admin/users", json=body, token=self._admin_token)
        assert made.status == 201, f"could not create {username!r}: {made.json}"
        return await self.token(username, password)


async def login(page: Page, site: Site, username: str, password: str = PASSWORD) -> None:
    """Logs in through the login form and waits until the app shows the signed-in page."""
    await page.goto(f"{site.url}/login")
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Log in").click()
    await _signed_in(page)


async def register(page: Page, site: Site, username: str, password: str = PASSWORD) -> None:
    """Registers through the registration form (which signs straight in) and waits as `login` does."""
    await page.goto(f"{site.url}/register")
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Register").click()
    await _signed_in(page)


async def _signed_in(page: Page) -> None:
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()
    await page.wait_for_url(lambda url: not url.rstrip("/").endswith(("/login", "/register")))


def environment(data_dir: Path, upstream: ScriptedUpstream, dist: Path) -> dict[str, str]:
    provider = {"name": "scripted", "base_url": upstream.base_url, "models": MODELS, "max_retries": 0}
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(data_dir), "SWITCHBOARD_LOG_LEVEL": "warning",
           "SWITCHBOARD_PROVIDERS": orjson.dumps([provider]).decode(), "SWITCHBOARD_DEFAULT_MODEL": MODELS[0],
           "SWITCHBOARD_DEFAULT_TOKEN_ALLOWANCE": str(DEFAULT_ALLOWANCE), "SWITCHBOARD_REGISTRATION": "open",
           "SWITCHBOARD_ADMIN": orjson.dumps({"username": BOOTSTRAP_ADMIN, "password": BOOTSTRAP_PASSWORD}).decode(),
           "SWITCHBOARD_WEB": orjson.dumps({"dist_dir": str(dist)}).decode(),
           # many logins from one address in one run: the login limiter must not refuse the suite
           "SWITCHBOARD_LIMITS": '{"login_failures_per_address": 1000}'}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SWITCHBOARD_CONFIG"):
        env.pop(name, None)
    return env


@contextlib.asynccontextmanager
async def running_site(data_dir: Path, upstream: ScriptedUpstream, dist: Path) -> AsyncIterator[Site]:
    """`switchboard serve` as a real process on a free port, until the block ends."""
    port = free_port()
    with (data_dir / "server.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            SWITCHBOARD, "serve", "--port", str(port), env=environment(data_dir, upstream, dist),
            stdout=subprocess.DEVNULL, stderr=log)
    site = Site(f"http://127.0.0.1:{port}", upstream, data_dir)
    try:
        if not await until_ready(process, site.url, attempts=1200):
            raise AssertionError(f"the server exited at start-up:\n{site.log.read_text()}")
        yield site
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 60)

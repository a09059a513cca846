"""Real browser, real server: Debian's Chromium driven by Playwright against `switchboard serve`.

- `site` (support.Site): one server per xdist worker (session scope: starting one costs seconds),
  with the scripted upstream serving `gpt-test` and `gpt-vision`, SQLite in a temp folder, open
  registration, a default allowance and the current build of web/ (rebuilt first when stale).
  It is shared: give every test its own users (`support.unique`), and put back any runtime
  setting a test changes. The upstream's script is emptied before each test.
- `page`: a fresh browser context (no cookies or storage from other tests, English, 1280x800)
  and page per test; one browser per worker. On failure a screenshot goes to the test's tmp dir.
- `console_errors`: what the page logged as errors (CSP violations included) and uncaught errors.
  Any test whose page broke the Content-Security-Policy fails at teardown: every flow is checked.
Every test here runs on the session's event loop (the server and browser live there), and the
whole directory skips with the reason when Chromium or the web app's build is missing.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from tests.browser.support import Site, running_site
from tests.support.upstream import ScriptedUpstream

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
HERE = Path(__file__).resolve().parent
# ecosystem-facts: Debian's Chromium in a container, no downloads, no background traffic
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Marks every test module here before its tests are made (pytest-asyncio reads the loop
    scope then): the tests share the session's loop with `site` and `browser`."""
    if isinstance(collector, pytest.Module) and HERE in collector.path.parents:
        collector.add_marker(pytest.mark.asyncio(loop_scope="session"))
        collector.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def web_build() -> Path:
    """The web app's build, made first if web/ changed since (scripts/build-web is quiet when it is
    fresh and takes a lock, so parallel workers build once)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: ./scripts/test installs it (apt-get install chromium)")
    done = subprocess.run([str(ROOT / "scripts" / "build-web")], capture_output=True, text=True, timeout=600)
    if done.returncode == 3 and not (DIST / "index.html").exists():
        pytest.skip(f"the web app is not built and cannot be: {done.stderr.strip()}")
    assert done.returncode == 0, f"scripts/build-web failed:\n{done.stdout}\n{done.stderr}"
    return DIST


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def site(web_build: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    async with ScriptedUpstream() as upstream:
        upstream.models = ["gpt-test", "gpt-vision"]
        async with running_site(tmp_path_factory.mktemp("site"), upstream, web_build) as running:
            yield running


@pytest.fixture(autouse=True)
def _fresh_script(request: pytest.FixtureRequest) -> None:
    """A test's leftover replies must not answer the next test's turns."""
    if "site" in request.fixturenames:
        request.getfixturevalue("site").upstream.reset()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(web_build: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, site: Site, console_errors: list[str], request: pytest.FixtureRequest,
               tmp_path: Path) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=site.url, locale="en-US", viewport={"width": 1280, "height": 800})
    opened = await context.new_page()
    opened.on("console", lambda message: message.type == "error" and console_errors.append(
        f"{message.text} ({message.location.get('url', '?')})"))
    opened.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    try:
        yield opened
    finally:
        if request.node.stash.get(FAILED, False):
            shot = tmp_path / "failure.png"
            await opened.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failed test's page: {shot}")
        await context.close()
    violations = [line for line in console_errors if "Content Security Policy" in line]
    assert not violations, f"the page broke its Content-Security-Policy: {violations}"

"""The web app's static site alone, over a folder made by the test and a fallback that records
what it was handed (in the app, the router's JSON 404 in the face's envelope)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from switchboard.webui.site import CSP, IMMUTABLE, WebSite, api_roots

INDEX = "<!doctype html><title>app</title><script type=module src=/assets/index-abc123.js></script>"


class Fallback:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await JSONResponse({"fallback": scope["path"]}, status_code=404)(scope, receive, send)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "index-abc123.js").write_text("console.log(1)")
    (folder / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for the web")
    return folder


def client(site: WebSite) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(site), base_url="http://sb")


def site_over(dist: Path, fallback: Fallback | None = None) -> WebSite:
    return WebSite(dist, api_prefixes=["/api/auth", "/v1", "/api/v1", "/send"], fallback=fallback or Fallback())


def test_api_roots_are_the_first_segments_of_the_prefixes() -> None:
    assert api_roots(["/api/auth", "/api/v1", "/v1", "/send", "/", "/healthz"]) == {"/api", "/v1", "/send", "/healthz"}


@pytest.mark.parametrize("path", ["/", "/c/abc", "/admin/users", "/login", "/index.html", "/a/b/c?x=1"])
async def test_every_page_path_answers_the_index_revalidated(dist: Path, path: str) -> None:
    async with client(site_over(dist)) as http:
        answer = await http.get(path)
    assert answer.status_code == 200
    assert answer.text == INDEX
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


async def test_hashed_assets_are_immutable_and_other_files_revalidated(dist: Path) -> None:
    async with client(site_over(dist)) as http:
        asset = await http.get("/assets/index-abc123.js")
        icon = await http.get("/favicon.svg")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert asset.headers["cache-control"] == IMMUTABLE
    assert "javascript" in asset.headers["content-type"]
    assert icon.status_code == 200 and icon.headers["cache-control"] == "no-cache"


async def test_a_revalidation_of_an_unchanged_page_is_a_304(dist: Path) -> None:
    async with client(site_over(dist)) as http:
        first = await http.get("/c/1")
        again = await http.get("/c/2", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_head_answers_the_headers_alone(dist: Path) -> None:
    async with client(site_over(dist)) as http:
        answer = await http.head("/admin/users")
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-length"] == str(len(INDEX))


@pytest.mark.parametrize("path", ["/api/nothing", "/api", "/v1/models/x", "/api/v1/x", "/send", "/assets/missing.js"])
async def test_api_paths_and_missing_assets_go_to_the_fallback(dist: Path, path: str) -> None:
    fallback = Fallback()
    async with client(site_over(dist, fallback)) as http:
        answer = await http.get(path)
    assert answer.status_code == 404 and answer.json() == {"fallback": path}
    assert fallback.paths == [path]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_go_to_the_fallback(dist: Path, method: str) -> None:
    async with client(site_over(dist)) as http:
        answer = await http.request(method, "/c/abc")
    assert answer.status_code == 404 and answer.json() == {"fallback": "/c/abc"}


@pytest.mark.parametrize("path", ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                                  "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"])
async def test_nothing_outside_the_folder_is_served(dist: Path, path: str) -> None:
    async with client(site_over(dist)) as http:
        answer = await http.get(path)
    assert "not for the web" not in answer.text


async def raw_get(site: WebSite, path: str) -> bytes:
    """GET as a server hands it over: the path decoded, `..` left in (httpx would remove it)."""
    sent: list[Any] = []
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": []}

    async def receive() -> Any:
        await asyncio.Event().wait()  # the client stays: a response listening for a disconnect waits
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    await site(scope, receive, send)
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("path", ["/../secret.txt", "/assets/../../secret.txt", "/assets/x\x00.js", "/.."])
async def test_traversal_through_the_raw_path_is_refused(dist: Path, path: str) -> None:
    assert b"not for the web" not in await raw_get(site_over(dist), path)


async def test_a_symlink_out_of_the_folder_is_not_followed(dist: Path) -> None:
    (dist / "assets" / "leak.js").symlink_to(dist.parent / "secret.txt")
    (dist / "leak.txt").symlink_to(dist.parent / "secret.txt")
    async with client(site_over(dist)) as http:
        asset = await http.get("/assets/leak.js")
        page = await http.get("/leak.txt")
    assert asset.status_code == 404
    assert "not for the web" not in page.text and page.text == INDEX


async def test_without_a_build_every_page_says_how_to_make_one(tmp_path: Path) -> None:
    site = site_over(tmp_path / "nothing-here")
    assert not site.built
    async with client(site) as http:
        page = await http.get("/c/abc")
        api = await http.get("/api/nothing")
    assert page.status_code == 503
    assert "./scripts/build-web" in page.text
    assert page.headers["content-security-policy"] == CSP
    assert api.status_code == 404 and api.json() == {"fallback": "/api/nothing"}


async def test_a_websocket_goes_to_the_fallback(dist: Path) -> None:
    fallback_scopes: list[str] = []

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        fallback_scopes.append(scope["type"])

    site = WebSite(dist, api_prefixes=[], fallback=fallback)
    await site({"type": "websocket", "path": "/c/abc"}, None, None)  # type: ignore[arg-type]
    assert fallback_scopes == ["websocket"]

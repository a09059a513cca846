"""The web app inside the whole application: it answers what no route took, and nothing more — every
face's unknown paths keep that face's JSON 404, the router's 405s and slash redirects stay, and
without a build the APIs run while `/` and the start-up log say how to build it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from switchboard.app.asgi import create_app
from switchboard.app.faces import SwitchboardApp
from switchboard.config.settings import Settings, WebSettings
from switchboard.core.domain.errors import NotFound

INDEX = "<!doctype html><title>app</title><script type=module src=/assets/index-abc123.js></script>"


def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    return dist


def app_over(tmp_path: Path, dist: Path) -> SwitchboardApp:
    return create_app(Settings(data_dir=tmp_path, web=WebSettings(dist_dir=dist)))


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = app_over(tmp_path, built(tmp_path))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sb") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_the_page_and_a_deep_link_answer_the_index(http: httpx.AsyncClient) -> None:
    for path in ("/", "/c/0195f0c2", "/admin/users"):
        answer = await http.get(path)
        assert answer.status_code == 200 and answer.text == INDEX, path
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    asset = await http.get("/assets/index-abc123.js")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_every_face_keeps_its_own_json_404(http: httpx.AsyncClient) -> None:
    app: SwitchboardApp = http.app  # type: ignore[attr-defined]
    assert app._table is not None
    for face in app._table.faces:
        for prefix in face.prefixes:
            path = prefix.rstrip("/") + "/no/such/endpoint/anywhere/here"
            answer = await http.get(path)
            expected = face.render_error(NotFound("no such endpoint"), 404)  # MuseBot's errors are 200s
            assert answer.status_code == expected.status_code, path
            assert answer.headers["content-type"].startswith("application/json"), path
            assert answer.json().keys() == httpx.Response(200, content=expected.body).json().keys(), path


async def test_the_first_segment_of_an_api_prefix_belongs_to_the_api(http: httpx.AsyncClient) -> None:
    for path in ("/api/nothing", "/api", "/v1", "/docs/nothing", "/healthz/x"):
        answer = await http.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("application/json"), path


async def test_the_routers_own_answers_stay(http: httpx.AsyncClient) -> None:
    wrong_method = await http.get("/api/auth/login")
    assert wrong_method.status_code == 405 and wrong_method.json()["success"] is False
    posted = await http.post("/c/abc", json={})
    assert posted.status_code == 404 and posted.json()["success"] is False
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/openapi.json")).json()["info"]["title"] == "Switchboard"


async def test_without_a_build_the_apis_run_and_the_page_says_how_to_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    app = app_over(tmp_path, tmp_path / "not-built")
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sb") as client:
                page = await client.get("/")
                registered = await client.post("/api/auth/register",
                                               json={"username": "alice", "password": "a-long-password"})
    assert page.status_code == 503 and "./scripts/build-web" in page.text
    assert registered.status_code in (200, 201)
    lines = [r.getMessage() for r in caplog.records if "web app is not built" in r.getMessage()]
    assert len(lines) == 1 and "./scripts/build-web" in lines[0]

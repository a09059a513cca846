"""The API docs work without internet (assets served from the package), and /readyz asks every
dependency: the database, its schema being this release's newest, and Redis when configured."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from switchboard.adapters.push import changes
from switchboard.app.asgi import create_app
from switchboard.config.settings import Settings
from switchboard.core.services.chat import replay
from switchboard.platforms._shared import routing


async def test_the_docs_pages_load_nothing_from_another_host(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sb") as client:
            for page in ("/docs", "/redoc"):
                html = (await client.get(page)).text
                sources = re.findall(r'(?:src|href)=["\']([^"\']+)', html) + re.findall(r"url: ?'([^']+)'", html)
                assert sources, page
                assert all(s.startswith("/") for s in sources), f"{page} loads {sources}"
                for asset in (s for s in sources if s.startswith("/docs/assets/")):
                    fetched = await client.get(asset)
                    assert fetched.status_code == 200 and len(fetched.content) > 1000, asset


async def test_readiness_names_what_is_not_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # with Redis away, start-up waits for each of its three subscriptions before serving anyway
    # (10 s each, one after the other): what this test reads is /readyz, not that wait
    for waiting in (changes, replay, routing):
        monkeypatch.setattr(waiting, "SUBSCRIBE_TIMEOUT_SECONDS", 0.2)
    app = create_app(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"))  # nothing listens there
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sb") as client:
            down = await client.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"status": "unavailable", "database": True, "migrations": True, "redis": False}
            engine = app.state.runtime.uow._engine
            async with engine.begin() as connection:  # as if an older release's worker migrated back
                await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
            assert (await client.get("/readyz")).json()["migrations"] is False


async def test_readiness_with_redis_up(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sb") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["redis"] is True


async def test_the_document_says_which_operations_need_a_credential_and_how(tmp_path: Path) -> None:
    """Checked against the route table that the scope tests prove on the running server."""
    from tests.integration.scopes.test_route_table import PUBLIC, TABLE

    document = create_app(Settings(data_dir=tmp_path)).openapi()
    assert {"bearer", "apiKeyHeader", "apiKeyQuery"} <= set(document["components"]["securitySchemes"])
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            if name not in TABLE:
                continue
            assert (operation["security"] == []) == (TABLE[name] == PUBLIC), name
            if TABLE[name] != PUBLIC:
                assert {"bearer": []} in operation["security"], name

"""Two `serve` processes standing in for two hosts (their own data directories and ports) on one
PostgreSQL database behave as one server: a token issued by one is accepted by the other."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.test_serve import serving

pytestmark = pytest.mark.postgres


async def login(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"username": "alice", "password": "a-long-password"})
    assert response.status_code == 200, response.text
    return {"Authorization": "Bearer " + response.json()["data"]["access_token"]}


async def test_a_login_on_one_host_is_good_on_the_other(tmp_path: Path, postgres_url: str) -> None:
    env = {"SWITCHBOARD_DATABASE_URL": postgres_url}
    async with serving(tmp_path / "host-a", **env) as a, serving(tmp_path / "host-b", **env) as b, \
            httpx.AsyncClient(base_url=a, timeout=30) as host_a, httpx.AsyncClient(base_url=b, timeout=30) as host_b:
        registered = await host_a.post("/api/auth/register", json={"username": "alice", "password": "a-long-password"})
        assert registered.status_code == 201, registered.text
        from_a, from_b = await login(host_a), await login(host_b)
        for host, token in ((host_b, from_a), (host_a, from_b), (host_a, from_a)):
            me = await host.get("/api/auth/me", headers=token)
            assert me.status_code == 200 and me.json()["data"]["username"] == "alice", me.text
        forged = {"Authorization": from_a["Authorization"][:-4] + "AAAA"}
        assert (await host_b.get("/api/auth/me", headers=forged)).status_code == 401
    # the secret is the database's: neither host wrote one of its own
    assert not (tmp_path / "host-a" / "secret.key").exists() and not (tmp_path / "host-b" / "secret.key").exists()

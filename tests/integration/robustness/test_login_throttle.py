"""Brute force against password logins (item 5 of issue 19), through the live server: failed
logins are limited per account and per client address (429 with Retry-After, in the face's
envelope), a success clears the account's count, the window expires, and the limit holds for
concurrent guesses; with `redis_url` the counts are shared by every worker."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import redis.asyncio as redis

from switchboard.config.settings import LimitSettings
from tests.integration.native.conftest import Api

REDIS_URL = "redis://127.0.0.1:6379/0"


def limits(**values: Any) -> LimitSettings:
    return LimitSettings(**values)


async def login(api: Api, username: str, password: str) -> Any:
    return await api.client.post("/api/auth/login", json={"username": username, "password": password})


async def test_an_account_is_locked_after_five_failures_in_the_native_envelope(start_native: Any) -> None:
    api = await start_native()
    await api.user("alice", "right-password")
    answers = [(await login(api, "alice", "wrong-password")).status_code for _ in range(5)]
    refused = await login(api, "alice", "right-password")  # even the right one, until the window ends
    other = await login(api, "admin", "admin-password")

    assert answers == [401] * 5
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json() == {"success": False, "message": "too many failed attempts; try again later",
                              "code": "rate_limited"}
    assert other.status_code == 200  # another account from the same address goes on


async def test_a_success_clears_the_account_count(start_native: Any) -> None:
    api = await start_native()
    await api.user("alice", "right-password")
    for _ in range(4):
        assert (await login(api, "alice", "wrong")).status_code == 401
    assert (await login(api, "alice", "right-password")).status_code == 200
    statuses = [(await login(api, "alice", "wrong")).status_code for _ in range(4)]
    assert statuses == [401] * 4


async def test_the_window_expires_so_nobody_is_locked_out_for_good(start_native: Any) -> None:
    api = await start_native(limits=limits(login_failures_per_account=2, login_window_seconds=0.5))
    await api.user("alice", "right-password")
    for _ in range(2):
        await login(api, "alice", "wrong")
    assert (await login(api, "alice", "right-password")).status_code == 429
    await asyncio.sleep(0.6)
    assert (await login(api, "alice", "right-password")).status_code == 200


async def test_concurrent_guesses_get_no_more_checks_than_the_limit(start_native: Any) -> None:
    api = await start_native()
    await api.user("alice", "right-password")
    answers = await asyncio.gather(*(login(api, "alice", f"guess-{n}") for n in range(30)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(401) == 5 and statuses.count(429) == 25


async def test_one_address_spraying_many_accounts_is_limited(start_native: Any) -> None:
    api = await start_native(limits=limits(login_failures_per_address=6))
    statuses = [(await login(api, f"user-{n}", "password")).status_code for n in range(8)]
    assert statuses == [401] * 6 + [429] * 2


async def test_registration_is_no_free_oracle_of_names(start_native: Any) -> None:
    api = await start_native(limits=limits(login_failures_per_address=2))
    register = api.client.post
    created = await register("/api/auth/register", json={"username": "carol", "password": "password1",
                                                          "email": "admin@example.com"})
    # another account's e-mail is no conflict: registering never tells whether an e-mail is known
    again = await register("/api/auth/register", json={"username": "dave", "password": "password1",
                                                        "email": "admin@example.com"})
    taken = [(await register("/api/auth/register", json={"username": "admin", "password": "password1"}))
             .status_code for _ in range(3)]
    assert created.status_code == 201 and again.status_code == 201
    assert taken == [409, 409, 429]


async def test_miochat_codes_cannot_be_guessed_without_limit(start_mio: Any) -> None:
    mio = await start_mio(user_code="the-real-code")
    api = mio.api
    statuses = []
    for n in range(21):
        body = {"request_id": n, "data": {"mio-chat-id": "guesser", "mio-chat-token": f"guess-{n}"}}
        statuses.append((await api.client.post("/api/system/login", json=body)).status_code)
    refused = await api.client.post("/api/system/login", json={"request_id": 99, "data": {
        "mio-chat-id": "guesser", "mio-chat-token": "the-real-code"}})
    assert statuses == [401] * 20 + [429]
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.json()["code"] == 1 and "too many failed attempts" in refused.json()["data"]["reason"]


async def test_with_redis_the_counts_are_shared_by_every_worker(start_native: Any) -> None:
    """Two apps (as two workers) on one Redis: failures on one lock the account on the other."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError as exc:
        pytest.skip(f"Redis unreachable: {exc}")
    name = f"alice-{uuid.uuid4().hex[:8]}"  # Redis outlives the test: a name of its own
    one = await start_native(redis_url=REDIS_URL, limits=limits(login_failures_per_address=0))
    two = await start_native(redis_url=REDIS_URL, limits=limits(login_failures_per_address=0))
    await one.user(name, "right-password")
    for _ in range(5):
        assert (await login(one, name, "wrong")).status_code == 401
    try:
        assert (await login(two, name, "wrong")).status_code == 429
    finally:
        await client.delete(*[k async for k in client.scan_iter("switchboard:attempts:*")])
        await client.aclose()

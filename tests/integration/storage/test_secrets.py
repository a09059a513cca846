"""Shared secrets: the first candidate stored wins, for every later and every concurrent caller."""

from __future__ import annotations

import asyncio

from switchboard.adapters.storage import upgrade_database
from switchboard.adapters.storage.secrets import shared_secret


async def test_the_first_candidate_is_kept(database_url: str) -> None:
    await upgrade_database(database_url)
    assert await shared_secret(database_url, "jwt_signing", "first") == "first"
    assert await shared_secret(database_url, "jwt_signing", "second") == "first"
    assert await shared_secret(database_url, "other", "third") == "third"  # names do not mix


async def test_hosts_starting_together_agree(database_url: str) -> None:
    await upgrade_database(database_url)
    answers = await asyncio.gather(*(shared_secret(database_url, "jwt_signing", f"c{i}") for i in range(6)))
    assert len(set(answers)) == 1 and answers[0] in {f"c{i}" for i in range(6)}

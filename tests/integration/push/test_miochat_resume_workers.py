"""Two workers on one PostgreSQL and one Redis: a Mio-Chat client whose socket to one worker
dropped mid-answer reconnects to the other and sends the same completions frame again; it gets
the answer's frames from the start, then the tail produced on the first worker — one model call,
charged once."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.config.face_settings import MiochatSettings
from switchboard.config.settings import PasswordSettings, Settings, StreamingSettings
from tests.integration.miochat.conftest import Mio, Open, logged_in, open_ws
from tests.integration.miochat.test_resume import (
    USAGE,
    WORDS,
    carol,
    left_mid_answer,
    model_calls,
    resumed,
    text_of,
    tokens_of,
)
from tests.integration.native.conftest import Api
from tests.support.app_settings import app_settings
from tests.support.upstream import ScriptedUpstream

__all__ = ["open_ws"]  # the fixture

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_workers_settings(tmp_path: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str) -> Settings:
    return app_settings(tmp_path / "shared", upstream, redis_url=redis_url, database_url=postgres_url,
                        streaming=StreamingSettings(flush_seconds=0.05), miochat=MiochatSettings(),
                        passwords=PasswordSettings(time_cost=1, memory_cost_kib=1024, parallelism=1))


@pytest.fixture
def two_mio(two_workers: tuple[Api, Api]) -> tuple[Mio, Mio]:
    one, two = two_workers
    return Mio(str(one.client.base_url).rstrip("/"), one), Mio(str(two.client.base_url).rstrip("/"), two)


async def test_a_socket_dropped_on_one_worker_resumes_on_the_other(
    two_mio: tuple[Mio, Mio], open_ws: Open, upstream: ScriptedUpstream
) -> None:
    one, two = two_mio
    user_id = await carol(one)
    two.keys.update(one.keys)
    gate = await left_mid_answer(one, open_ws, upstream, "m1")

    frames = await resumed(await logged_in(two, open_ws, "carol"), "m1", gate)

    assert frames[0]["message"] == "pending" and frames[-1]["message"] == "completed"
    assert text_of(frames) == WORDS, "every text delta exactly once, from the start"
    assert model_calls(upstream) == 1
    assert await tokens_of(two, user_id) == (sum(USAGE), 0)

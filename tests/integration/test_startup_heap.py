"""The server process freezes its start-up heap, so full GC passes skip the libraries' objects;
apps built by tests (freeze_heap off) leave the collector alone."""

from __future__ import annotations

import gc
from pathlib import Path

from switchboard.app.asgi import create_app
from switchboard.config.settings import Settings


async def test_only_the_server_process_freezes_its_start_up_heap(tmp_path: Path) -> None:
    assert gc.get_freeze_count() == 0
    plain = create_app(Settings(data_dir=tmp_path / "test-app"))
    async with plain.router.lifespan_context(plain):
        assert gc.get_freeze_count() == 0
    served = create_app(Settings(data_dir=tmp_path / "served"), freeze_heap=True)
    try:
        async with served.router.lifespan_context(served):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # this test process goes on with other tests

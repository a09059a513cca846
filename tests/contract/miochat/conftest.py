"""Contract tests reuse the integration fixtures: the app on uvicorn, clients on real WebSockets."""

from typing import Any

from tests.integration.miochat.conftest import Mio, Start, open_ws, start_mio

__all__ = ["open_ws", "start_mio"]


async def trusting(start_mio: Start, **miochat: Any) -> Mio:
    """An app that trusts alice's key for calls without credentials (a restart with the setting)."""
    first = await start_mio(keep="kept")
    return await start_mio(keep="kept", trusted_key=first.keys["alice"], **miochat)

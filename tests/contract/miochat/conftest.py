"""Contract tests reuse the integration fixtures: the app on uvicorn, clients on real WebSockets."""

from tests.integration.miochat.conftest import open_ws, start_mio

__all__ = ["open_ws", "start_mio"]

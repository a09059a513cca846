from tests.contract.astrbot.harness import start_astrbot
from tests.integration.miochat.conftest import open_ws, start_mio
from tests.integration.native.conftest import start_native

__all__ = ["open_ws", "start_astrbot", "start_mio", "start_native"]

from tests.contract.astrbot.harness import start_astrbot

__all__ = ["start_astrbot"]

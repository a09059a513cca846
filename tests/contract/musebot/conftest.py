from tests.integration.musebot.harness import muse, start_musebot

__all__ = ["muse", "start_musebot"]

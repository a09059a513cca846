"""The contract tests' live-server fixtures, reused here."""

from tests.contract.chatgpt_proxy.conftest import proxy, start_proxy

__all__ = ["proxy", "start_proxy"]

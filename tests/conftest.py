"""Shared fixtures come from tests/support as plugins, so each test package can use them."""

pytest_plugins = [
    "tests.support.databases",
    "tests.support.upstream",
    "tests.support.mcp_servers",
]

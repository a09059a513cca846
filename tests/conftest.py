"""Shared fixtures come from tests/support as plugins, so each test package can use them."""

import os

# Real argon2id, at a cost cheap enough for the thousands of logins the suite does (every
# Settings() built by a test reads this; production keeps the strong defaults).
os.environ.setdefault("SWITCHBOARD_PASSWORDS", '{"time_cost": 1, "memory_cost_kib": 1024, "parallelism": 1}')

pytest_plugins = [
    "tests.support.databases",
    "tests.support.upstream",
    "tests.support.mcp_servers",
    "tests.support.gateway",
    "tests.support.s3_server",
]

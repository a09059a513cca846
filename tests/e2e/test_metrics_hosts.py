"""Two `serve` processes standing in for two hosts on one PostgreSQL and Redis: each host's
/metrics counts its own traffic (a scraper scrapes every host; test_metrics_workers.py covers the
workers of one `serve --workers N`, summed through prometheus-client's multiprocess mode)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_two_workers_quota import new_conversation, sign_in, two_hosts
from tests.support.redis_server import redis_url
from tests.support.upstream import ScriptedUpstream

__all__ = ["redis_url"]  # the fixture

pytestmark = pytest.mark.postgres


def requests_to(text: str, route: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(text)
               if family.name == "switchboard_http_requests" for sample in family.samples
               if sample.name.endswith("_total") and sample.labels["route"] == route)


async def test_each_host_counts_its_own_traffic(
        tmp_path: Path, upstream: ScriptedUpstream, postgres_url: str, redis_url: str) -> None:
    public = {"SWITCHBOARD_METRICS": '{"public": true}'}  # a single-process host: its own registry
    async with two_hosts(tmp_path, upstream, postgres_url, redis_url, **public) as ((_, a), (_, b)), \
            httpx.AsyncClient(base_url=a, timeout=30) as host_a, httpx.AsyncClient(base_url=b, timeout=30) as host_b:
        auth = await sign_in(host_a, "alice")
        turn = {"conversation_id": await new_conversation(host_a, auth), "content": "hi"}
        for _ in range(3):
            assert (await host_a.post("/api/messages", json=turn, headers=auth)).status_code == 200
        for _ in range(5):
            assert (await host_b.get(f"/api/messages/{turn['conversation_id']}", headers=auth)).status_code == 200
        scraped_a, scraped_b = (await host_a.get("/metrics")).text, (await host_b.get("/metrics")).text

    assert (requests_to(scraped_a, "/api/messages"), requests_to(scraped_b, "/api/messages")) == (3, 0)
    listed = "/api/messages/{conversation_id}"
    assert (requests_to(scraped_a, listed), requests_to(scraped_b, listed)) == (0, 5)

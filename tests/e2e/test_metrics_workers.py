"""`serve --workers 2`: /metrics, scraped from whichever worker answers, counts every worker's
traffic, and the answers the core timed and charged (prometheus-client's multiprocess mode, in a
directory `serve` makes and removes, or the operator's own); a worker that stops takes its
open-request gauge out of the sum."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.serve_process import SWITCHBOARD, free_port, until_ready

REQUESTS = 40
ANSWERS = 6
STREAM = {"model": "echo", "stream": True, "messages": [{"role": "user", "content": "count me"}]}


def answers_counted(text: str) -> tuple[float, float]:
    """The gateway's answers timed to their first event, and the tokens they were charged."""
    families = {family.name: family for family in text_string_to_metric_families(text)}
    timed = sum(s.value for s in families["switchboard_time_to_first_token_seconds"].samples
                if s.name.endswith("_count") and s.labels["face"] == "openai")
    tokens = sum(s.value for s in families["switchboard_tokens"].samples if s.name.endswith("_total"))
    return timed, tokens


def healthz_count(text: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(text)
               if family.name == "switchboard_http_requests" for sample in family.samples
               if sample.name.endswith("_total") and sample.labels["route"] == "/healthz")


@pytest.mark.parametrize("own_directory", [False, True])
async def test_metrics_sum_every_worker(tmp_path: Path, own_directory: bool) -> None:
    port = free_port()
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_LOG_LEVEL": "warning",
           "SWITCHBOARD_REDIS_URL": "redis://127.0.0.1:6379/14", "SWITCHBOARD_METRICS": '{"public": true}'}
    for name in ("OPENAI_API_KEY", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    metrics_dir = tmp_path / "metrics"
    if own_directory:
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    process = await asyncio.create_subprocess_exec(
        SWITCHBOARD, "serve", "--workers", "2", "--port", str(port), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert await until_ready(process, base, attempts=600), "the server exited during start-up"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            before = healthz_count((await client.get("/metrics")).text)
            registered = await client.post("/api/auth/register", json={"username": "ann", "password": "password1"})
            assert registered.status_code == 201, registered.text
            login = await client.post("/api/auth/login", json={"username": "ann", "password": "password1"})
            token = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        for _ in range(REQUESTS):  # a new connection each: the kernel spreads them over the workers
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                assert (await client.get("/healthz")).status_code == 200
        for _ in range(ANSWERS):  # streamed answers of the offline echo model, on either worker
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                answer = await client.post("/v1/chat/completions", json=STREAM, headers=token)
                assert answer.status_code == 200 and "[DONE]" in answer.text
        scrapes, answers = [], []
        for _ in range(4):  # whichever worker answers the scrape, it counts them all
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                text = (await client.get("/metrics")).text
                scrapes.append(healthz_count(text))
                answers.append(answers_counted(text))
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
    assert scrapes == [before + REQUESTS] * 4
    assert len(set(answers)) == 1 and answers[0][0] == ANSWERS and answers[0][1] > 0
    if own_directory:  # kept, with the counters, but no stopped worker's live gauge
        assert list(metrics_dir.glob("counter_*.db")) and not list(metrics_dir.glob("gauge_livesum_*.db"))

"""LiteLLM's proxy as a further reference, when one is installed in a virtual environment of its own
(never a dependency of Switchboard):

    python3 -m venv /tmp/litellm-venv && /tmp/litellm-venv/bin/pip install 'litellm[proxy]'
    BENCH_LITELLM=/tmp/litellm-venv/bin/litellm uv run python -m bench.run --only gw-plain-c1,gw-plain-c16

It runs as its users start it (one worker, its defaults), with every benchmark model routed to
the fake upstream and a master key, on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yaml

MASTER_KEY = "sk-bench-litellm"
READY_PATH = "/health/liveliness"


def executable() -> str | None:
    path = os.environ.get("BENCH_LITELLM")
    return path if path and Path(path).exists() else None


def command(litellm: str, workdir: Path, upstream_url: str, models: Sequence[str], port: int) -> list[str]:
    config = {
        "model_list": [{"model_name": model, "litellm_params": {
            "model": f"openai/{model}", "api_base": upstream_url + "/v1", "api_key": "bench-upstream-key"}}
            for model in models],
        "general_settings": {"master_key": MASTER_KEY},
    }
    path = workdir / "litellm.yaml"
    path.write_text(yaml.safe_dump(config))
    return [litellm, "--config", str(path), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]


def environment() -> dict[str, str]:
    # offline: its model price list from the package, not from GitHub; and only its errors logged
    return {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}

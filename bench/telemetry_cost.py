"""CPU the core's metrics add per call: what PrometheusTelemetry records for one `/v1` stream
(open, first token, close, tokens) and for one plain call (tokens), against the no-op default.

    python -m bench.telemetry_cost                 # one process, as `serve` without --workers
    python -m bench.telemetry_cost --multiprocess  # prometheus-client's files, as `serve --workers N`
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable

ROUNDS = 200_000


def per_call(action: Callable[[], None]) -> float:
    """µs of CPU per call of `action`, after a warm-up."""
    for _ in range(1_000):
        action()
    started = time.process_time()
    for _ in range(ROUNDS):
        action()
    return (time.process_time() - started) / ROUNDS * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--multiprocess", action="store_true")
    multiprocess = parser.parse_args().multiprocess
    with tempfile.TemporaryDirectory(prefix="switchboard-bench-metrics-") as directory:
        if multiprocess:  # before prometheus-client is imported: it picks its value class then
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        from switchboard.app.telemetry import FACE, PrometheusTelemetry
        from switchboard.core.ports.telemetry import NO_TELEMETRY, Telemetry

        FACE.set("openai")

        def stream(telemetry: Telemetry) -> Callable[[], None]:
            def once() -> None:
                telemetry.stream_opened()
                telemetry.first_token("gpt-test", 0.2)
                telemetry.stream_closed()
                telemetry.tokens("gpt-test", 100, 30)
            return once

        recorded = PrometheusTelemetry()
        mode = "multiprocess" if multiprocess else "one process"
        for name, telemetry in (("prometheus", recorded), ("no-op", NO_TELEMETRY)):
            plain = per_call(lambda t=telemetry: t.tokens("gpt-test", 100, 30))  # type: ignore[misc]
            print(f"{mode:12} {name:10} stream {per_call(stream(telemetry)):6.2f} µs   plain call {plain:6.2f} µs")


if __name__ == "__main__":
    main()

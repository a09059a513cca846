"""schemathesis over every operation of every face in the app's own /openapi.json (in-process):
whatever a client sends, the answer is never a server error and never a stack trace.

Every call carries one API key with every scope (an administrator's), in each place a face reads
it, so generated inputs get past authentication and reach the handlers and the database. The
models are the built-in offline `echo`, so chat operations run whole turns without a provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from switchboard.app.asgi import create_app
from switchboard.config.settings import AdminSettings, Settings
from switchboard.core.domain.users import Scope

ADMIN = AdminSettings(username="admin", password="admin-password")
# operations whose examples would take the caller's own credentials away for the rest of the run
EXAMPLES = 10  # per operation: about 1.5 minutes for all of them on two cores
LEFT_OUT = {("POST", "/api/auth/logout"), ("PATCH", "/api/admin/users/{user_id}")}
# the operations are dealt into this many tests, so `pytest -n 2` runs them on both cores: one test
# of every operation was the suite's longest (~1 minute of one core's time at its tail)
SHARDS = 4


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("schemathesis"), admin=ADMIN))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        login = test_client.post("/api/auth/login", json={"username": ADMIN.username, "password": ADMIN.password})
        token = login.json()["data"]["access_token"]
        created = test_client.post("/api/keys", headers={"Authorization": f"Bearer {token}"},
                                   json={"name": "fuzz", "scopes": [scope.value for scope in Scope]})
        key = created.json()["data"]["key"]
        headers = {"Authorization": f"Bearer {key}", "X-API-Key": key, "mio-chat-id": "fuzz", "mio-chat-token": key}
        yield test_client, headers


@pytest.mark.timeout(240)  # ~15 s alone; several times that beside other tests on two busy cores
@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_operation_answers_without_a_server_error(client: tuple[TestClient, dict[str, str]],
                                                        shard: int) -> None:
    test_client, headers = client
    document = test_client.app.openapi()  # type: ignore[attr-defined]
    schema = schemathesis.openapi.from_dict(document)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > SHARDS * 10  # every shard has operations to call

    for operation in operations[shard::SHARDS]:
        if (operation.method.upper(), operation.path) in LEFT_OUT:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def call(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver")
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **headers}
            response = test_client.request(**_for_httpx(kwargs))
            # a 503 with Retry-After is the database saying "busy, retry" on an overloaded machine
            passing = response.status_code == 503 and "Retry-After" in response.headers
            assert (response.status_code < 500 or passing) and "Traceback" not in response.text, (
                f"{response.status_code} {response.text[:300]}")

        try:
            call()
        except Exception as exc:  # hypothesis has shrunk it to the smallest failing input
            inner = getattr(exc, "exceptions", ())  # a flaky failure carries the first one inside
            why = "; ".join(str(part).splitlines()[0] for part in (exc, *inner) if str(part))
            failures[f"{operation.method.upper()} {operation.path}"] = why[:600]
    assert not failures, "\n".join(f"{where}: {why}" for where, why in failures.items())


def _for_httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis' transport arguments (requests-style) -> TestClient.request arguments."""
    out = {k: v for k, v in kwargs.items() if k in ("method", "url", "headers", "params", "json") and v is not None}
    if kwargs.get("files"):  # any generated value becomes a file's bytes (the client cannot send an int)
        out["files"] = [(name, (value[0], _as_bytes(value[1])) if isinstance(value, tuple) else (
            name, _as_bytes(value))) for name, value in kwargs["files"]]
    if "data" in kwargs:
        data = kwargs["data"]
        out["content" if isinstance(data, bytes | str) else "data"] = data
    return out


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()

"""/openapi.json (item 6 of issue 19): every `$ref` resolves (GET /v1/models pointed at a `#/$defs`
that does not exist), and every operation declares the error statuses its face answers with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from switchboard.app.asgi import create_app
from switchboard.config.settings import AdminSettings, Settings


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [node["$ref"]] if "$ref" in node else [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_ref_resolves_and_every_face_declares_its_errors(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, admin=AdminSettings(password="admin-password")))
    document = TestClient(app).get("/openapi.json").json()
    for ref in _refs(document):
        assert ref.startswith("#/") and _resolve(document, ref) is not None, ref
    models = document["paths"]["/v1/models"]["get"]["responses"]
    assert {"200", "401", "429"} <= set(models)
    assert models["401"]["content"]["application/json"]["schema"]["required"] == ["error"]
    conversations = document["paths"]["/api/conversations"]["get"]["responses"]
    assert {"401", "422", "429"} <= set(conversations)
    assert conversations["401"]["content"]["application/json"]["schema"]["properties"]["success"] == {"const": False}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not path.startswith(("/communicate", "/api/communicate", "/user/", "/record/", "/conf/", "/command/",
                                    "/mcp/", "/pong", "/healthz", "/readyz")):  # MuseBot: every error HTTP 200
                assert any(code.startswith("4") for code in operation["responses"]), f"{method} {path}"

"""Log lines carry their request's id, as text or JSON, and never a credential."""

from __future__ import annotations

import io
import json
import logging

from switchboard.app.logs import JsonLines, RedactCredentials, TagRequest, logging_config
from switchboard.core.domain.correlation import REQUEST_ID


def capture(formatter: logging.Formatter) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactCredentials())  # in the order logging_config puts them
    handler.addFilter(TagRequest())
    handler.setFormatter(formatter)
    return handler, stream


def record(name: str, message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, exc_info)


def test_json_lines_have_the_request_id_and_no_credentials() -> None:
    handler, stream = capture(JsonLines())
    token = REQUEST_ID.set("req-1")
    try:
        handler.handle(record("switchboard", "key %s failed", "sb-abcdefghijklmnop"))
        handler.handle(record("uvicorn.access", '%s - "%s %s HTTP/%s" %d',
                              "127.0.0.1:5", "GET", "/v1/models?api_key=sb-abcdefghijk", "1.1", 200))
        try:
            raise ValueError("bearer sb-abcdefghijklmnop")
        except ValueError as exc:
            handler.handle(record("switchboard", "boom", exc=exc))
    finally:
        REQUEST_ID.reset(token)
    handler.handle(record("switchboard", "outside any request"))
    written = stream.getvalue()
    lines = [json.loads(line) for line in written.splitlines()]
    assert "abcdefghij" not in written
    assert [line["request_id"] for line in lines] == ["req-1", "req-1", "req-1", None]
    assert lines[0]["message"] == "key sb-*** failed" and lines[0]["level"] == "warning"
    assert (lines[1]["method"], lines[1]["path"], lines[1]["status"]) == ("GET", "/v1/models?api_key=***", 200)
    assert "ValueError" in lines[2]["error"]


def test_text_lines_are_tagged_only_inside_a_request() -> None:
    config = logging_config("info")
    handler, stream = capture(logging.Formatter(config["formatters"]["plain"]["format"]))
    token = REQUEST_ID.set("req-2")
    try:
        handler.handle(record("switchboard", "inside"))
    finally:
        REQUEST_ID.reset(token)
    handler.handle(record("switchboard", "outside"))
    inside, outside = stream.getvalue().splitlines()
    assert inside.endswith("WARNING switchboard [req-2]: inside") and outside.endswith("WARNING switchboard: outside")


def test_json_format_puts_every_handler_on_json() -> None:
    config = logging_config("info", "json")
    assert {handler["formatter"] for handler in config["handlers"].values()} == {"json"}
    assert all(handler["filters"] == ["redact", "request"] for handler in config["handlers"].values())

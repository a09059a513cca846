"""Pure functions between the OpenAI wire and the core: request bodies in, models out."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from switchboard.core.domain.chat import ModelInfo
from switchboard.core.domain.errors import InvalidInput
from switchboard.faces.openai.schemas import ModelListOut, ModelOut

B = TypeVar("B", bound=BaseModel)


def parse_body(raw: bytes, schema: type[B]) -> dict[str, Any]:
    """The JSON body as the client sent it, once `schema` accepts it (the dict is what goes on)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("We could not parse the JSON body of your request.") from exc
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.")
    try:
        schema.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(describe(exc), param=_first_param(exc)) from exc
    return body


def describe(exc: ValidationError) -> str:
    problems = [f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5]]
    return "Invalid request: " + "; ".join(problems)


def _first_param(exc: ValidationError) -> str | None:
    errors = exc.errors()
    return ".".join(str(p) for p in errors[0]["loc"]) if errors and errors[0]["loc"] else None


def model_out(model: ModelInfo) -> ModelOut:
    if model.builtin:
        return ModelOut(id=model.id, owned_by=model.owned_by, builtin=True, description=model.description)
    return ModelOut(id=model.id, owned_by=model.owned_by)


def model_list(models: list[ModelInfo]) -> ModelListOut:
    return ModelListOut(data=[model_out(m) for m in models])

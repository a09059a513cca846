"""Which models a principal may use, and how each is doing (for a model picker)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchboard.core.domain.chat import ModelInfo
from switchboard.core.domain.errors import UnknownModel
from switchboard.core.domain.users import Principal
from switchboard.core.ports.providers import ModelCatalog, ProviderMonitor

# No provider says whether a model reads images (the OpenAI /models listing has no such field), so
# the picker's hint comes from the names of the well-known vision families. A miss only hides the
# hint: an image sent to any model still reaches it as an image part.
_VISION = re.compile(
    r"gpt-4o|gpt-4\.1|gpt-4-turbo|gpt-4-vision|gpt-5|o[134](-|$)|chatgpt-4o|claude-3|claude-(sonnet|opus|haiku)-4"
    r"|claude-.*-4|gemini|vision|-vl\b|-vl-|vl-|qwen.*vl|glm-4v|llava|pixtral|grok-.*vision|llama-4|minicpm-v"
    r"|internvl|moondream|gemma-3",
    re.IGNORECASE,
)


def reads_images(model_id: str) -> bool:
    return bool(_VISION.search(model_id))


@dataclass(frozen=True, slots=True)
class ModelChoice:
    id: str
    provider: str
    vision: bool
    available: bool  # its provider is not sitting out a cool-down after repeated failures


class ModelService:
    def __init__(self, catalog: ModelCatalog, monitor: ProviderMonitor | None = None) -> None:
        self._catalog = catalog
        self._monitor = monitor

    @property
    def default_model(self) -> str:
        return self._catalog.default_model

    async def available(self, principal: Principal | None = None) -> list[ModelInfo]:
        models = await self._catalog.models()
        if principal is not None and principal.allowed_models:
            models = [m for m in models if m.id in principal.allowed_models]
        return models

    async def choices(self, principal: Principal) -> list[ModelChoice]:
        """The models `principal` may pick (an API key's `allowed_models` apply), with their health."""
        statuses = self._monitor.statuses() if self._monitor is not None else []
        cooling = {s.name for s in statuses if s.cooling_down_until is not None}
        return [ModelChoice(m.id, m.provider, reads_images(m.id), m.provider not in cooling)
                for m in await self.available(principal)]

    async def get(self, principal: Principal, model_id: str) -> ModelInfo:
        for model in await self.available(principal):
            if model.id == model_id:
                return model
        raise UnknownModel(f"the model '{model_id}' does not exist or this key may not use it", param="model")

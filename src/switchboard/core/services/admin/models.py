"""Which models a principal may use."""

from __future__ import annotations

from switchboard.core.domain.chat import ModelInfo
from switchboard.core.domain.errors import UnknownModel
from switchboard.core.domain.users import Principal
from switchboard.core.ports.providers import ModelCatalog


class ModelService:
    def __init__(self, catalog: ModelCatalog) -> None:
        self._catalog = catalog

    @property
    def default_model(self) -> str:
        return self._catalog.default_model

    async def available(self, principal: Principal | None = None) -> list[ModelInfo]:
        models = await self._catalog.models()
        if principal is not None and principal.allowed_models:
            models = [m for m in models if m.id in principal.allowed_models]
        return models

    async def get(self, principal: Principal, model_id: str) -> ModelInfo:
        for model in await self.available(principal):
            if model.id == model_id:
                return model
        raise UnknownModel(f"the model '{model_id}' does not exist or this key may not use it", param="model")

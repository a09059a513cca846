"""ModelService.choices: what the web app's model picker shows (allowed models, vision hint, health)."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.core.domain.chat import ModelInfo, ProviderStatus
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.admin.models import ModelService, reads_images


class _Catalog:
    default_model = "gpt-4o"

    async def models(self) -> list[ModelInfo]:
        return [ModelInfo("gpt-4o", "up", "up"), ModelInfo("deepseek-chat", "down", "down"),
                ModelInfo("echo", "echo", "switchboard", builtin=True)]

    async def resolve(self, model: str) -> tuple[object, str]:
        raise NotImplementedError


class _Monitor:
    def statuses(self) -> list[ProviderStatus]:
        cooling = datetime(2030, 1, 1, tzinfo=UTC)
        return [ProviderStatus("up", "http://up", ("gpt-4o",), True, None, None),
                ProviderStatus("down", "http://down", ("deepseek-chat",), False, cooling, "502")]


def _principal(allowed: tuple[str, ...] = ()) -> Principal:
    return Principal(1, "alice", Role.USER, frozenset({Scope.CHAT}), via="api_key", allowed_models=allowed)


async def test_choices_say_which_provider_cools_down_and_which_model_reads_images() -> None:
    service = ModelService(_Catalog(), _Monitor())  # type: ignore[arg-type]
    choices = {c.id: c for c in await service.choices(_principal())}
    assert (choices["gpt-4o"].vision, choices["gpt-4o"].available) == (True, True)
    assert (choices["deepseek-chat"].vision, choices["deepseek-chat"].available) == (False, False)
    assert choices["echo"].available and not choices["echo"].vision


async def test_a_keys_allowed_models_limit_the_choices() -> None:
    service = ModelService(_Catalog())  # type: ignore[arg-type]
    assert [c.id for c in await service.choices(_principal(("echo",)))] == ["echo"]


def test_vision_families_are_recognised_by_name() -> None:
    assert all(map(reads_images, ["gpt-4o-mini", "claude-3-5-sonnet", "gemini-2.0-flash", "qwen-vl-max",
                                  "Qwen2.5-VL-72B-Instruct", "glm-4v-plus", "llava:13b"]))
    assert not any(map(reads_images, ["gpt-3.5-turbo", "deepseek-chat", "echo", "text-embedding-3-small"]))

"""/api/admin/profiles: the named chat profiles (model, persona, temperature, tools) AstrBot clients
pick with `config_id`. Administrators only (scope `admin`), reading too: profiles hold system
prompts. AstrBot clients list them by id and name only, at /api/v1/configs.

/api/profiles (scope `chat`): the same profiles for anyone to pick when starting a conversation
(POST /api/conversations `profile_id`), with everything but the system prompt."""


from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from switchboard.core.domain.platforms import Profile
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.core.services.conversations.profiles import ProfileDraft
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import ok
from switchboard.faces.native.schemas import ProfileChoiceOut


class ProfileBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    model: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    tools_enabled: bool | None = None
    allowed_tools: list[str] | None = Field(default=None, max_length=500)

    def draft(self) -> ProfileDraft:
        # a field sent as null clears it; a field left out keeps its value
        sent_null = {k for k in self.model_fields_set if getattr(self, k) is None}
        return ProfileDraft(
            name=self.name, model=self.model, system_prompt=self.system_prompt, temperature=self.temperature,
            tools_enabled=self.tools_enabled, allowed_tools=self.allowed_tools, clear=frozenset(sent_null - {"name"}),
        )


def profile_out(profile: Profile) -> dict[str, Any]:
    return {
        "id": profile.id, "name": profile.name, "model": profile.model, "system_prompt": profile.system_prompt,
        "temperature": profile.temperature, "tools_enabled": profile.tools_enabled,
        "allowed_tools": profile.allowed_tools, "is_default": profile.is_default,
        "created_at": profile.created_at.isoformat(), "updated_at": profile.updated_at.isoformat(),
    }


def profile_choice_out(profile: Profile) -> dict[str, Any]:
    return ProfileChoiceOut(
        id=profile.id, name=profile.name, model=profile.model, temperature=profile.temperature,
        tools_enabled=profile.tools_enabled, has_persona=bool(profile.system_prompt), is_default=profile.is_default,
    ).model_dump(mode="json")


def profiles_router(services: Services) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal_dependency(services, Scope.ADMIN))]
    Chatter = Annotated[Principal, Depends(principal_dependency(services, Scope.CHAT))]
    profiles = services.profiles

    @router.get("/api/profiles", tags=["conversations"])
    async def list_profile_choices(principal: Chatter) -> Response:
        return ok([profile_choice_out(p) for p in await profiles.list()])

    @router.get("/api/admin/profiles", tags=["admin"])
    async def list_profiles(principal: Caller) -> Response:
        return ok([profile_out(p) for p in await profiles.list()])

    @router.post("/api/admin/profiles", tags=["admin"])
    async def create_profile(principal: Caller, body: ProfileBody) -> Response:
        return ok(profile_out(await profiles.create(principal, body.draft())), "profile created", status=201)

    @router.put("/api/admin/profiles/{profile_id}", tags=["admin"])
    async def update_profile(principal: Caller, profile_id: str, body: ProfileBody) -> Response:
        return ok(profile_out(await profiles.update(principal, profile_id, body.draft())), "profile updated")

    @router.delete("/api/admin/profiles/{profile_id}", tags=["admin"])
    async def delete_profile(principal: Caller, profile_id: str) -> Response:
        await profiles.delete(principal, profile_id)
        return ok(message="profile deleted")

    return router

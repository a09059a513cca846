"""/api/auth, /api/keys and /api/admin/users.

Scopes: /api/auth/options none (public); /api/auth/me and /logout any credential; /api/keys* `keys`;
/api/admin/users* `admin`."""


from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.accounts.keys import KeyChange, KeyOptions
from switchboard.core.services.admin.users import UserChange
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.bounds import PageNumber, RowId
from switchboard.faces._shared.client import client_address
from switchboard.faces._shared.credentials import SIGNED_IN
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import ok
from switchboard.faces.native.mapping import admin_user_out, key_out, user_out
from switchboard.faces.native.schemas import KeyBody, KeyPatchBody, LoginBody, RegisterBody, UserPatchBody


def accounts_router(services: Services) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal_dependency(services, SIGNED_IN))]
    KeyManager = Annotated[Principal, Depends(principal_dependency(services, Scope.KEYS))]
    Admin = Annotated[Principal, Depends(principal_dependency(services, Scope.ADMIN))]

    @router.post("/api/auth/register", tags=["auth"])
    async def register(request: Request, body: RegisterBody) -> Response:
        client = client_address(request)
        user = await services.accounts.register(body.username, body.password, body.email, client=client)
        return ok({"id": user.id, "username": user.username}, "注册成功", status=201)

    @router.get("/api/auth/options", tags=["auth"])
    async def options() -> Response:
        # public: the sign-in page shows or hides its registration form before anyone signs in
        return ok({"registration_open": services.accounts.policy.registration_open})

    @router.post("/api/auth/login", tags=["auth"])
    async def login(request: Request, body: LoginBody) -> Response:
        token, user = await services.accounts.login(body.username, body.password, client=client_address(request))
        data = {
            "access_token": token.token, "token_type": "bearer", "expires_at": token.expires_at.isoformat(),
            "user": {"id": user.id, "username": user.username, "role": user.role.value},
        }
        return ok(data, "登录成功")

    @router.post("/api/auth/logout", tags=["auth"])
    async def logout(principal: Caller) -> Response:
        await services.accounts.logout(principal)
        return ok(message="登出成功")

    @router.get("/api/auth/me", tags=["auth"])
    async def me(principal: Caller) -> Response:
        return ok(user_out(await services.accounts.me(principal)))

    @router.post("/api/auth/link-code", tags=["auth"])
    async def link_code(principal: Caller) -> Response:
        code, expires_at = await services.identities.link_code(principal)
        return ok({"code": code, "expires_at": expires_at.isoformat(), "command": f"/link {code}"}, status=201)

    @router.get("/api/keys", tags=["keys"])
    async def list_keys(principal: KeyManager) -> Response:
        return ok([key_out(k) for k in await services.keys.list(principal)])

    @router.post("/api/keys", tags=["keys"])
    async def create_key(principal: KeyManager, body: KeyBody) -> Response:
        options = KeyOptions(
            name=body.name, scopes=frozenset(body.scopes), expires_days=body.expires_days,
            allowed_models=tuple(body.allowed_models), rpm_limit=body.rpm_limit, tpm_limit=body.tpm_limit,
            token_quota=body.token_quota,
        )
        issued = await services.keys.create(principal, options)
        return ok(key_out(issued.key, issued.secret), "the key is shown only once: store it now", status=201)

    @router.patch("/api/keys/{key_id}", tags=["keys"])
    async def change_key(principal: KeyManager, key_id: str, body: KeyPatchBody) -> Response:
        change = KeyChange(
            given=frozenset(body.model_fields_set), name=body.name, allowed_models=tuple(body.allowed_models),
            rpm_limit=body.rpm_limit, tpm_limit=body.tpm_limit, token_quota=body.token_quota,
        )
        return ok(key_out(await services.keys.change(principal, key_id, change)), "key changed")

    @router.delete("/api/keys/{key_id}", tags=["keys"])
    async def revoke_key(principal: KeyManager, key_id: str) -> Response:
        return ok(key_out(await services.keys.revoke(principal, key_id)), "key revoked")

    @router.get("/api/admin/users", tags=["admin"])
    async def list_users(
        principal: Admin, page: Annotated[PageNumber, Query()] = 1,
        page_size: Annotated[int, Query(ge=1, le=100)] = 20, q: str | None = None,
    ) -> Response:
        rows, total = await services.admin.list_users(principal, page, page_size, q)
        items = [admin_user_out(u, quota) for u, quota in rows]
        return ok({"items": items, "total": total, "page": page, "page_size": page_size})

    @router.get("/api/admin/users/{user_id}", tags=["admin"])
    async def get_user(principal: Admin, user_id: RowId) -> Response:
        return ok(admin_user_out(*await services.admin.get_user(principal, user_id)))

    @router.patch("/api/admin/users/{user_id}", tags=["admin"])
    async def change_user(principal: Admin, user_id: RowId, body: UserPatchBody) -> Response:
        change = UserChange(
            is_active=body.is_active, role=Role(body.role) if body.role else None,
            token_allowance=body.token_allowance, unlimited=body.unlimited, add_tokens=body.add_tokens,
            release_reserved=body.release_reserved,
            set_tools="tools" in body.model_fields_set, tools=tuple(body.tools) if body.tools is not None else None,
            password=body.password,
        )
        return ok(admin_user_out(*await services.admin.change_user(principal, user_id, change)))

    return router

"""Platform identities: the ids other systems know a person by, linked to a Switchboard user."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from switchboard.core.domain.errors import Conflict, Forbidden, InvalidInput
from switchboard.core.domain.platforms import PlatformIdentity
from switchboard.core.domain.users import Principal, Role, User
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.accounts.auth import hash_api_key

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")
LINK_CODES = "link-code"  # pending /link codes are kept as identities of this platform, by their hash
LINK_CODE_TTL = timedelta(minutes=10)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed into a chat by hand


class IdentityService:
    def __init__(self, uow: UnitOfWork, clock: Clock, default_token_allowance: int) -> None:
        self._uow = uow
        self._clock = clock
        self.default_token_allowance = default_token_allowance  # of new platform users; follows the live setting

    async def link(self, principal: Principal, platform: str, external_id: str, display_name: str | None = None
                   ) -> PlatformIdentity:
        """Link `external_id` to the caller's own account (e.g. a Mio-Chat client logging in with a key)."""
        async with self._uow() as tx:
            found = await tx.identities.get(platform, external_id)
            if found is not None:
                if found.user_id != principal.user_id:
                    raise Conflict(f"this {platform} id is linked to another account")
                return found
            identity = PlatformIdentity(platform, external_id, principal.user_id, self._clock.now(), display_name)
            await tx.identities.add(identity)
            return identity

    async def act_as(self, principal: Principal, platform: str, external_id: str) -> tuple[User, PlatformIdentity]:
        """The user behind a platform id. An admin may act for any id (its user is created on first
        use); anyone else only for ids linked to themselves (linked now if the id is new)."""
        external_id = external_id.strip()
        if not external_id or len(external_id) > 200:
            raise InvalidInput(f"{platform} user id must be 1-200 characters", param="user_id")
        async with self._uow() as tx:
            identity = await tx.identities.get(platform, external_id)
            if identity is None:
                owner_id = principal.user_id
                if principal.is_admin:
                    owner_id = (await self._platform_user(tx, platform, external_id)).id
                identity = PlatformIdentity(platform, external_id, owner_id, self._clock.now())
                await tx.identities.add(identity)
            elif identity.user_id != principal.user_id and not principal.is_admin:
                raise Forbidden(f"this key may only act for its own {platform} user")
            user = await tx.users.get(identity.user_id)
            if user is None or not user.is_active:
                raise Forbidden("the account behind this id is deactivated")
            return user, identity

    async def contact(self, platform: str, external_id: str, display_name: str | None = None, *,
                      allow_new: bool = True) -> tuple[User, PlatformIdentity]:
        """The user behind someone who wrote to a bot on an IM platform (QQ, Telegram). A new id gets
        its own platform user with the default allowance, unless the platform turned that off."""
        external_id = external_id.strip()
        if not external_id or len(external_id) > 200:
            raise InvalidInput(f"{platform} user id must be 1-200 characters", param="user_id")
        try:
            return await self._contact(platform, external_id, display_name, allow_new)
        except Conflict:  # a first message twice at once: the loser of the insert reads the winner's
            return await self._contact(platform, external_id, display_name, allow_new)

    async def _contact(self, platform: str, external_id: str, display_name: str | None, allow_new: bool
                       ) -> tuple[User, PlatformIdentity]:
        async with self._uow() as tx:
            identity = await tx.identities.get(platform, external_id)
            if identity is None:
                if not allow_new:
                    raise Forbidden(f"this {platform} account is not linked to a Switchboard user; "
                                    "ask an administrator to link it")
                user = await self._platform_user(tx, platform, external_id)
                identity = PlatformIdentity(platform, external_id, user.id, self._clock.now(), display_name)
                await tx.identities.add(identity)
            found = await tx.users.get(identity.user_id)
            if found is None or not found.is_active:
                raise Forbidden("the account behind this id is deactivated")
            return found, identity

    async def link_code(self, principal: Principal) -> tuple[str, datetime]:
        """A one-time code the caller sends as `/link <code>` to a bot, to make that IM account theirs."""
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        now = self._clock.now()
        async with self._uow() as tx:
            await tx.identities.add(PlatformIdentity(LINK_CODES, hash_api_key(code), principal.user_id, now))
        return code, now + LINK_CODE_TTL

    async def redeem(self, platform: str, external_id: str, code: str, display_name: str | None = None) -> User:
        """Links the IM account to the user who made the code; its earlier platform account keeps
        what was said before the link."""
        async with self._uow() as tx:
            hashed = hash_api_key(code.strip().upper())
            pending = await tx.identities.get(LINK_CODES, hashed)
            expired = pending is None or self._clock.now() - pending.created_at > LINK_CODE_TTL
            # the code is deleted as it is used: of two redemptions at once only one takes it
            if pending is None or expired or not await tx.identities.take(LINK_CODES, hashed):
                raise InvalidInput("this link code is unknown, used or expired; make a new one in your account")
            identity = await tx.identities.get(platform, external_id)
            if identity is None:
                await tx.identities.add(PlatformIdentity(platform, external_id, pending.user_id, self._clock.now(),
                                                         display_name))
            else:
                identity.user_id = pending.user_id
                await tx.identities.update(identity)
            user = await tx.users.get(pending.user_id)
            if user is None or not user.is_active:
                raise Forbidden("the account behind this code is deactivated")
            return user

    async def update_settings(self, identity: PlatformIdentity, **changes: object) -> PlatformIdentity:
        identity.settings = {**identity.settings, **changes}
        async with self._uow() as tx:
            await tx.identities.update(identity)
        return identity

    async def list(self, principal: Principal, platform: str, page: int, page_size: int,
                   external_id: str | None = None) -> tuple[list[PlatformIdentity], int]:
        async with self._uow() as tx:
            if principal.is_admin:
                return await tx.identities.list(platform, page, page_size, external_id)
            mine = [i for i in await tx.identities.for_user(principal.user_id) if i.platform == platform]
            if external_id is not None:
                mine = [i for i in mine if i.external_id == external_id]
            return mine[(page - 1) * page_size: page * page_size], len(mine)

    async def _platform_user(self, store: Tx, platform: str, external_id: str) -> User:
        """A platform-only user (no password) for an id an admin acts for; its username says where it came from."""
        username = f"{platform}-{_UNSAFE.sub('_', external_id)}"[:64]
        user = await store.users.by_username(username)
        if user is None:
            user = await store.users.add(username, None, None, Role.USER)
            allowance = self.default_token_allowance
            await store.quotas.ensure(user.id, allowance, unlimited=allowance == 0)
        return user

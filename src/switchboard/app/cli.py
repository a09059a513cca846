"""`switchboard serve | migrate | users ... | keys ...` — the console script."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

from switchboard.config.loader import ConfigError, load_settings
from switchboard.config.settings import Settings
from switchboard.core.domain.errors import DomainError
from switchboard.core.domain.users import Role, Scope


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return _serve(args, settings)
    try:
        return asyncio.run(_offline(args, settings))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description="Switchboard LLM chat server")
    parser.add_argument("--config", default=None, help="YAML config file (default: $SWITCHBOARD_CONFIG)")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--config", default=argparse.SUPPRESS)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    sub.add_parser("migrate", help="apply database migrations")
    users = sub.add_parser("users", help="manage users").add_subparsers(dest="action", required=True)
    create = users.add_parser("create")
    create.add_argument("name")
    create.add_argument("--password", required=True)
    create.add_argument("--admin", action="store_true")
    allowance = users.add_parser("allowance")
    allowance.add_argument("name")
    allowance.add_argument("--add", type=int, required=True)
    release = users.add_parser("release", help="free the tokens a crashed worker left reserved")
    release.add_argument("name", nargs="?", default=None, help="one user (default: everyone)")
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    key = keys.add_parser("create")
    key.add_argument("--user", required=True)
    key.add_argument("--scopes", default="chat,file")
    key.add_argument("--expires-days", type=int, default=None)
    key.add_argument("--name", default="cli")
    key.add_argument("--token-quota", type=int, default=None, help="tokens this key may spend in all")
    return parser


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings for `serve`. The access log is switched off where its level would drop
    every line anyway: uvicorn formats each line's arguments before the logger looks at the level.
    No `server: uvicorn` header: it costs bytes on every response and tells scanners what runs here.
    Idle connections stay open 75 s (uvicorn's default is 5 s): SDK clients pause longer than that
    between calls, and a load balancer in front (60 s idle on the common ones) must never reuse a
    connection the server has just closed, which its clients would see as a 502."""
    level = settings.log_level.lower()
    return {"log_level": level, "access_log": level in ("trace", "debug", "info"), "server_header": False,
            "timeout_keep_alive": 75, "loop": "uvloop", "http": "httptools"}


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    if args.config:
        os.environ["SWITCHBOARD_CONFIG"] = args.config  # worker processes load the same file
    if args.workers > 1:
        uvicorn.run("switchboard.app.main:app_from_environment", factory=True, host=args.host, port=args.port,
                    workers=args.workers, **server_options(settings))
        return 0
    from switchboard.app.asgi import create_app

    uvicorn.run(create_app(settings, freeze_heap=True), host=args.host, port=args.port, **server_options(settings))
    return 0


async def _offline(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.app.container import build_runtime
    from switchboard.core.services.accounts.keys import KeyOptions

    runtime = build_runtime(settings)
    await runtime.start()
    services = runtime.services
    try:
        if args.command == "migrate":
            print("database is up to date")
            return 0
        user = None
        if args.command == "users" and args.action == "release" and args.name is None:
            released = await services.admin.release_reserved(None)
            print(f"released {released} reserved tokens of every user")
            return 0
        if args.command in ("users", "keys") and not (args.command == "users" and args.action == "create"):
            name = args.name if args.command == "users" else args.user
            async with runtime.uow() as tx:
                user = await tx.users.by_username(name)
            if user is None:
                print(f"error: no user named {name!r}", file=sys.stderr)
                return 1
        if args.command == "users" and args.action == "create":
            role = Role.ADMIN if args.admin else Role.USER
            created = await services.accounts.create_user(args.name, args.password, role=role)
            print(f"created {role.value} {created.username!r} (id {created.id})")
        elif args.command == "users" and args.action == "allowance" and user is not None:
            quota = await services.admin.add_tokens(user.id, args.add)
            print(f"{user.username}: allowance {quota.allowance}, used {quota.used}"
                  + (" (unlimited)" if quota.unlimited else ""))
        elif args.command == "users" and args.action == "release" and user is not None:
            released = await services.admin.release_reserved(user.id)
            print(f"{user.username}: released {released} reserved tokens")
        elif args.command == "keys" and user is not None:
            try:
                scopes = frozenset(Scope(s.strip()) for s in args.scopes.split(",") if s.strip())
            except ValueError as exc:
                print(f"error: unknown scope ({exc}); use chat,file,config,im,admin", file=sys.stderr)
                return 2
            issued = await services.keys.issue(user.id, KeyOptions(
                name=args.name, scopes=scopes, expires_days=args.expires_days, token_quota=args.token_quota))
            print(issued.secret)
        return 0
    finally:
        await runtime.close()

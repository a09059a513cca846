"""`switchboard serve | migrate | users ... | keys ...` — the console script."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import os
import sys

from switchboard.app.logs import logging_config
from switchboard.app.servers import SERVERS
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
    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))  # `serve` gives uvicorn the same
    if args.command == "serve":
        return _serve(args, settings)
    try:
        return asyncio.run(_offline(args, settings))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


class _WithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help line ends with its default, unless the help says it in words."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    defaults = _WithDefaults
    parser = argparse.ArgumentParser(prog="switchboard", description="Switchboard LLM chat server",
                                     formatter_class=defaults)
    parser.add_argument("--config", default=None, help="YAML config file (default: $SWITCHBOARD_CONFIG)")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the HTTP server", formatter_class=defaults,
                           description="Run the HTTP server (migrates the database first).")
    serve.add_argument("--config", default=argparse.SUPPRESS, help="YAML config file (default: $SWITCHBOARD_CONFIG)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    serve.add_argument("--port", type=int, default=8080, help="TCP port to listen on")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes; more than one needs redis_url (shared rate limits and pushes)")
    serve.add_argument("--server", choices=SERVERS, default="uvicorn",
                       help="HTTP server: uvicorn, or granian (Rust; always runs the app in child processes, "
                            "closes idle connections after 60 s instead of 75 s, sends `server: granian`, no access "
                            "log; see README)")
    sub.add_parser("migrate", help="apply database migrations")
    users = sub.add_parser("users", help="manage users").add_subparsers(dest="action", required=True)
    create = users.add_parser("create", help="create a user", formatter_class=defaults)
    create.add_argument("name", help="user name (2-64 letters, digits, _ . -)")
    create.add_argument("--password", required=True, help="the user's password (at least 8 characters)")
    create.add_argument("--admin", action="store_true", help="make the user an administrator")
    allowance = users.add_parser("allowance", help="add to a user's token allowance", formatter_class=defaults)
    allowance.add_argument("name", help="user name")
    allowance.add_argument("--add", type=int, required=True, help="tokens to add (negative to take away)")
    release = users.add_parser("release", help="free the tokens a crashed worker left reserved")
    release.add_argument("name", nargs="?", default=None, help="one user (default: everyone)")
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    key = keys.add_parser("create", help="issue an API key (printed once)", formatter_class=defaults)
    key.add_argument("--user", required=True, help="the key's owner")
    key.add_argument("--scopes", default="chat,file", help="comma-separated: chat,file,config,im,admin")
    key.add_argument("--expires-days", type=int, default=None, help="days until it expires (default: never)")
    key.add_argument("--name", default="cli", help="a name to recognise the key by")
    key.add_argument("--token-quota", type=int, default=None, 
                     help="tokens this key may spend in all (default: no limit)")
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from switchboard.app.servers import run_granian, run_uvicorn
    from switchboard.app.startup_checks import risks, workers_problem

    if problem := workers_problem(settings, args.workers):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    for line in risks(settings, args.workers):
        logging.getLogger("switchboard").warning(line)
    if args.config:
        os.environ["SWITCHBOARD_CONFIG"] = args.config  # worker processes load the same file
    run = run_granian if args.server == "granian" else run_uvicorn
    if args.workers > 1:
        import tempfile

        # /metrics sums every worker's numbers, which prometheus-client keeps in files here (an
        # operator's own directory wins; ours goes away with the server)
        with tempfile.TemporaryDirectory(prefix="switchboard-metrics-") as metrics_dir:
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
            run(settings, args.host, args.port, args.workers)
        return 0
    run(settings, args.host, args.port, 1)
    return 0


async def _offline(args: argparse.Namespace, settings: Settings) -> int:
    """Commands that act on the database directly: only the account services are built."""
    from switchboard.adapters.storage.migrate import upgrade_database
    from switchboard.app.accounts_wiring import build_account_services
    from switchboard.core.services.accounts.keys import KeyOptions

    await upgrade_database(settings.resolved_database_url)
    services = build_account_services(settings)
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
            async with services.uow() as tx:
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
                print(f"error: unknown scope ({exc}); use chat,file,config,im,admin,keys", file=sys.stderr)
                return 2
            issued = await services.keys.issue(user.id, KeyOptions(
                name=args.name, scopes=scopes, expires_days=args.expires_days, token_quota=args.token_quota))
            print(issued.secret)
        return 0
    finally:
        await services.uow.close()

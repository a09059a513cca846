"""What an operator must hear before the server takes its first request.

    problem = workers_problem(settings, workers)   # a reason to refuse to start, or None
    for line in risks(settings, workers): log.warning(line)

Risky but legitimate choices are said out loud at every start; a combination that would quietly
misbehave (several workers without Redis: rate limits let N times through, pushes reach 1/N of
the sockets while the API answers "ok") is refused."""

from __future__ import annotations

from switchboard.config.settings import Settings

EXAMPLE_ADMIN_PASSWORD = "change-me-now"  # the README's example; a server must not keep it


def workers_problem(settings: Settings, workers: int) -> str | None:
    if workers > 1 and not settings.redis_url:
        return (f"--workers {workers} needs redis_url: without it each worker keeps its own rate limits "
                "(letting N times the limit through) and its own pushes (lost for sockets on other workers). "
                "Set redis_url, or run one worker.")
    return None


def risks(settings: Settings, workers: int = 1) -> list[str]:
    said = []
    if settings.registration == "open" and settings.default_token_allowance == 0:
        said.append("registration is open and new users get unlimited tokens: anyone who can reach this server "
                    "can spend your provider credit (set registration: closed or default_token_allowance)")
    if settings.admin is not None and settings.admin.password == EXAMPLE_ADMIN_PASSWORD:
        said.append("the administrator's password is the README's example: change admin.password")
    if settings.chatgpt_proxy.allow_anonymous:
        said.append("chatgpt_proxy.allow_anonymous is on: /openai/* answers callers without any credential")
    if settings.tools.allow_private_network:
        said.append("tools.allow_private_network is on: web tools may reach this machine and its private network")
    if "*" in settings.tools.code_users:
        said.append('tools.code_users is "*": every user, and the model in every chat with tools, may run code '
                    "(in the bubblewrap sandbox)")
    if workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        said.append(f"{workers} workers share one SQLite file: accounts, conversations and quotas are shared, "
                    "but writes queue behind each other; use PostgreSQL (database_url) for real concurrency")
    return said

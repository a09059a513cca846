"""What the workers of one deployment share: on one Redis when `redis_url` is set (several workers or
hosts), in this process's memory otherwise (one worker). Each part picks its Redis or in-memory kind here,
so the rest of the wiring never asks which."""

from __future__ import annotations

from switchboard.adapters.push.answer_memory import InMemoryAnswerLog
from switchboard.adapters.push.answer_redis import RedisAnswerLog
from switchboard.adapters.push.lease import InMemoryLeases, RedisLeases, new_holder
from switchboard.adapters.push.memory import InMemoryPushBus
from switchboard.adapters.push.redis_bus import RedisPushBus
from switchboard.adapters.ratelimit.memory import InMemoryAttemptCounter, InMemoryRateLimiter
from switchboard.adapters.ratelimit.redis import RedisAttemptCounter, RedisRateLimiter
from switchboard.adapters.storage.uow import SqlUnitOfWork
from switchboard.config.settings import Settings
from switchboard.core.ports.gateway import RateLimiter
from switchboard.core.ports.leases import Leases
from switchboard.core.ports.push import PushBus
from switchboard.core.services.accounts.throttle import LoginThrottle, ThrottlePolicy
from switchboard.core.services.chat.replay import AnswerStreams, ResumePolicy


def build_push_bus(settings: Settings) -> PushBus:
    return RedisPushBus(settings.redis_url) if settings.redis_url else InMemoryPushBus()


def build_leases(settings: Settings, worker_id: str) -> Leases:
    """Which worker runs each IM platform's dialled connection."""
    holder = new_holder(worker_id)
    return RedisLeases(settings.redis_url, holder) if settings.redis_url else InMemoryLeases(holder)


def build_limiter(settings: Settings) -> RateLimiter:
    return RedisRateLimiter(settings.redis_url) if settings.redis_url else InMemoryRateLimiter()


def build_answer_streams(settings: Settings, uow: SqlUnitOfWork, push: PushBus) -> AnswerStreams:
    s = settings.streaming
    kept = (s.resume_ttl_seconds, s.resume_max_events, s.resume_ended_ttl_seconds)
    answer_log = RedisAnswerLog(settings.redis_url, *kept) if settings.redis_url else InMemoryAnswerLog(*kept)
    return AnswerStreams(answer_log, uow, push, ResumePolicy(grace_seconds=s.resume_grace_seconds))


def build_throttle(settings: Settings) -> LoginThrottle:
    limits = settings.limits
    counter = RedisAttemptCounter(settings.redis_url) if settings.redis_url else InMemoryAttemptCounter()
    return LoginThrottle(counter, ThrottlePolicy(
        limits.login_window_seconds, limits.login_failures_per_account, limits.login_failures_per_address))

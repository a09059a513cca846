"""Token allowances. `allowance` is what a user may spend in all; `used` what was settled;
`reserved` what running calls hold. Unlimited users are still metered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(slots=True)
class Quota:
    user_id: int
    allowance: int
    used: int
    reserved: int
    unlimited: bool

    @property
    def remaining(self) -> int:
        return max(self.allowance - self.used - self.reserved, 0)


@dataclass(frozen=True, slots=True)
class Grant:
    """What one reservation got: `tokens` held (0 = refused), and whether the user is unlimited
    (then the answer needs no cap), learned from the same UPDATE."""

    tokens: int
    unlimited: bool = False


@dataclass(frozen=True, slots=True)
class StoredHold:
    """Tokens one worker process holds in the database: for a user and, with a metered API key, for
    that key too (the same tokens count in both `reserved`s). A chat turn's hold names the message
    it pays for; a gateway lease's or call's names none. A dead worker's holds are released by
    another (services.quotas.recovery); a live worker's are never touched."""

    id: str
    worker_id: str
    user_id: int
    tokens: int
    key_id: str | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class UsageEntry:
    user_id: int
    tokens_prompt: int
    tokens_completion: int
    model: str
    created_at: datetime
    key_id: str | None = None
    conversation_id: str | None = None
    message_id: int | None = None
    source: str = "chat"
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class Settlement:
    """A hold's end: its `tokens` given back (on the user, its metered key and the stored hold
    `hold_id`, "" for none) and what `entry` spent charged and recorded."""

    hold_id: str
    key_id: str | None
    tokens: int
    entry: UsageEntry

    @property
    def spent(self) -> int:
        return self.entry.tokens_prompt + self.entry.tokens_completion


@dataclass(frozen=True, slots=True)
class UsageSummary:
    total: int
    today: int
    last_7_days: int
    last_30_days: int


UsageGroup = Literal["key", "model", "day", "user", "source"]


@dataclass(frozen=True, slots=True)
class UsageRow:
    """The ledger summed over one group: an API key id ("" for calls made without a key), a model,
    a UTC day (YYYY-MM-DD), a user id, or a source (chat, embedding, image ...)."""

    group: str
    requests: int
    tokens_prompt: int
    tokens_completion: int
    estimated: int = 0  # requests whose usage the provider did not report (counted by Switchboard)

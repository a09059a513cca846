"""Bounds for every integer a client sends, so none reaches SQL (or arithmetic) out of range.

SQLite and PostgreSQL store integers in 64 bits; a larger number in a query is a driver error (an
OverflowError or a DataError), which used to come back as a 500. Every integer parameter of every
face is one of these types (FastAPI and pydantic check them, and /openapi.json shows the bounds),
or is read by `whole_number` when a face parses its parameters by hand.

    async def delete(message_id: RowId): ...                     # a path or query parameter
    class Body(BaseModel): token_quota: TokenCount | None = None # a body field
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.services.conversations.history import MAX_PAGE

INT64_MAX = 2**63 - 1
MAX_TOKENS = 10**15  # more tokens than any allowance can mean; sums of them stay inside 64 bits

RowId = Annotated[int, Ge(1), Le(INT64_MAX)]  # a database id
PageNumber = Annotated[int, Ge(1), Le(MAX_PAGE)]
TokenCount = Annotated[int, Ge(0), Le(MAX_TOKENS)]  # tokens, or a per-minute limit
PositiveCount = Annotated[int, Ge(1), Le(MAX_TOKENS)]


def whole_number(text: str, name: str, *, low: int = -INT64_MAX, high: int = INT64_MAX) -> int:
    """`text` as an integer in [low, high]; InvalidInput naming the parameter otherwise."""
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {text[:40]!r}", param=name) from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}", param=name)
    return value

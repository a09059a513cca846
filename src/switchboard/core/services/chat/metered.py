"""A chat provider seen by the operator's metrics: each call is an open stream until it ends, is
timed to its first token (text, reasoning or a tool call), and counted when it fails. The turn
streams through it unchanged, so the turn itself stays free of bookkeeping. An unstreamed call
(the whole answer at once) has no first token to time, as the gateway's unstreamed relay has none."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.errors import UpstreamError
from switchboard.core.domain.events import ProviderEvent, ReasoningDelta, TextDelta, ToolCallDelta
from switchboard.core.ports.providers import ChatProvider
from switchboard.core.ports.telemetry import Telemetry

_TOKENS = (TextDelta, ReasoningDelta, ToolCallDelta)


class MeteredProvider:
    def __init__(
        self, inner: ChatProvider, telemetry: Telemetry, model: str,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = inner.name
        self._inner = inner
        self._telemetry = telemetry
        self._model = model  # the name the client asked for (the metrics' label), not the upstream one
        self._monotonic = monotonic

    async def stream(self, call: ProviderCall) -> AsyncIterator[list[ProviderEvent]]:
        telemetry, started, waiting = self._telemetry, self._monotonic(), call.streamed
        batches = self._inner.stream(call)
        telemetry.stream_opened()
        try:
            async for events in batches:
                if waiting and any(isinstance(event, _TOKENS) for event in events):
                    waiting = False
                    telemetry.first_token(self._model, self._monotonic() - started)
                yield events
        except UpstreamError as exc:
            telemetry.provider_failed(self.name, exc.code)
            raise
        finally:
            telemetry.stream_closed()
            close = getattr(batches, "aclose", None)
            if close is not None:  # the turn closed us early: stop the upstream request too
                await close()

    async def list_models(self) -> list[str]:
        return await self._inner.list_models()

    async def close(self) -> None:
        await self._inner.close()

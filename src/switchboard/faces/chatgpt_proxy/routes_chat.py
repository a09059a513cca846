"""/openai/completions, /openai/chat and /openai/edits (each plain, /stream and /sse), and /send."""


from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute
from starlette.responses import Response

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.faces.chatgpt_proxy import mapping as m
from switchboard.faces.chatgpt_proxy.auth import GuestSource, principal_dependency
from switchboard.faces.chatgpt_proxy.envelope import ok
from switchboard.faces.chatgpt_proxy.options import ProxyOptions
from switchboard.faces.chatgpt_proxy.schemas import ChatBody, ChatOut, CompletionsBody, EditsBody, SendBody, SendOut
from switchboard.faces.chatgpt_proxy.stream import NDJSON, SSE, Framing, StreamPolicy
from switchboard.faces.chatgpt_proxy.stream_route import stream_route
from switchboard.faces.chatgpt_proxy.turns import answer, many_shots, start_turn

Endpoint = Callable[..., Awaitable[Response]]
MODES: tuple[tuple[str, Framing | None], ...] = (("", None), ("/stream", NDJSON), ("/sse", SSE))


def chat_router(
    services: Services, options: ProxyOptions, policy: StreamPolicy, guest: GuestSource | None
) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal_dependency(services, guest))]
    legacy = options.legacy_models

    def completions_endpoint(framing: Framing | None) -> Endpoint:
        async def completions(principal: Caller, body: CompletionsBody) -> Response:
            texts, model = m.prompts(body.prompt), m.chat_model(body.model, legacy)
            if framing is None:
                m.check_n(body.n, len(texts), options.max_n)
                shots = [(m.completion_conversation(t, model), m.chat_request("", t, body, model, streamed=False))
                         for t in texts for _ in range(body.n)]
                return ok(await many_shots(services, principal, shots))
            if len(texts) > 1:
                raise InvalidInput("streaming answers one prompt at a time", param="prompt")
            new = m.completion_conversation(texts[0], model)
            request = m.chat_request("", texts[0], body, model, streamed=True)
            return await policy.respond(framing, start_turn(services, principal, None, new, request), with_code=False)

        return completions

    def edits_endpoint(framing: Framing | None) -> Endpoint:
        async def edits(principal: Caller, body: EditsBody) -> Response:
            model, text = m.chat_model(body.model, legacy), m.edit_text(body)
            request = m.chat_request("", text, body, model, streamed=framing is not None)
            shot = (m.edit_conversation(body, model), request)
            if framing is None:
                m.check_n(body.n, 1, options.max_n)
                return ok(await many_shots(services, principal, [shot] * body.n))
            return await policy.respond(framing, start_turn(services, principal, None, *shot), with_code=False)

        return edits

    def chat_endpoint(framing: Framing | None) -> Endpoint:
        async def chat(principal: Caller, body: ChatBody) -> Response:
            model, text = m.chat_model(body.model, legacy), m.chat_turn_text(body)
            request = m.chat_request("", text, body, model, streamed=framing is not None)
            started = start_turn(services, principal, body.chatcode, m.new_chat(body, model), request)
            if framing is not None:
                return await policy.respond(framing, started, with_code=True)
            conversation, turn = await started
            return ok(ChatOut(chatcode=conversation.id, content=await answer(turn)).model_dump())

        return chat

    for suffix, framing in MODES:
        route_class = stream_route(framing) if framing is not None else APIRoute
        for kind, endpoint in (("completions", completions_endpoint), ("edits", edits_endpoint),
                               ("chat", chat_endpoint)):
            router.add_api_route(f"/openai/{kind}{suffix}", endpoint(framing), methods=["POST"],
                                 route_class_override=route_class)

    @router.post("/send")
    async def send(principal: Caller, body: SendBody) -> Response:
        """A simple threaded chat: `fileId` names the conversation, `inputFileId` continues it.
        Answers `text`/`fileId` at the top level (as the original did) and in the envelope."""
        request = m.chat_request("", body.text, None, None, streamed=False)
        conversation, turn = await start_turn(services, principal, body.input_file_id, m.new_send(body.text), request)
        out = SendOut(text=await answer(turn), fileId=conversation.id).model_dump()
        return ok(out, **out)

    return router

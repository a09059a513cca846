"""A Telegram Bot API server for tests (what api.telegram.org is to a real bot), on 127.0.0.1: the
real JSON (`{"ok": true, "result": …}`, `{"ok": false, "error_code", "description", "parameters"}`),
`/bot<token>/<method>` and `/file/bot<token>/<path>`. It queues updates for getUpdates (a long poll
is held until one arrives or its `timeout` passes), keeps each chat's messages as Telegram shows
them (HTML parsed into text, edits applied), records every call and enforces what Telegram does:
4096 characters a message, well-formed HTML, and flood control — after a 429 with `retry_after`,
a call before that time is answered 429 again and counted in `early`.

    api = FakeBotApi(); await api.start()                 # api.base_url is the bot's api_base
    api.private(501, "hello")                             # a private message update
    [sent] = await api.wait_calls(1, "sendMessage")
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    api.texts(501)                                        # the chat's messages from the bot, as shown
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from typing import Any

from aiohttp import web

from tests.support.fakes import eventually
from tests.support.telegram_wire import Call, Html, error, json_response, read_params, update_id

TOKEN = "123456:TEST-token-secret"

class FakeBotApi:
    def __init__(self, token: str = TOKEN, bot_id: int = 777, username: str = "switchboard_bot") -> None:
        self.token, self.bot_id, self.username = token, bot_id, username
        self.port = 0
        self.calls: list[Call] = []
        self.early = 0  # calls made before a 429's retry_after had passed
        self.reject_entities = False  # refuse every parse_mode (a stricter Telegram than our HTML expects)
        self.files: dict[str, bytes] = {}  # file_path -> content
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message_id) -> the message
        self._failures: dict[str, deque[dict[str, Any]]] = {}
        self._flood: dict[str, float] = {}  # method -> when its retry_after ends
        self._updates: deque[dict[str, Any]] = deque()
        self._arrived = asyncio.Condition()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(100)
        self._runner: web.AppRunner | None = None
        self._closing = False

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeBotApi:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)  # the same port when started again
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """The API goes away: held long polls end, new connections are refused."""
        self._closing = True
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._closing = False

    # -- scripting ----------------------------------------------------------------------------
    def fail(self, method: str, code: int, description: str, *, retry_after: int | None = None) -> None:
        """Answer the next call of `method` with this error."""
        self._failures.setdefault(method, deque()).append(error(code, description, retry_after=retry_after))

    def push(self, update: Any) -> None:
        """Any update, as given (malformed ones too)."""
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())

    def private(self, user_id: int, text: str | None = None, **message: Any) -> int:
        return self._message({"id": user_id, "type": "private", "first_name": f"user{user_id}"}, user_id, text,
                             **message)

    def group(self, chat_id: int, user_id: int, text: str | None = None, **message: Any) -> int:
        return self._message({"id": chat_id, "type": "supergroup", "title": "a group"}, user_id, text, **message)

    def add_file(self, data: bytes) -> tuple[str, str]:
        """A file users sent; returns its file_id and file_path."""
        n = next(self._ids)
        self.files[path := f"photos/file_{n}.png"] = data
        return f"file-{n}", path

    async def wait_calls(self, count: int, method: str, within: float = 10.0) -> list[Call]:
        await eventually(lambda: len(self.sent(method)) >= count, within=within)
        return self.sent(method)

    def pending(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    def sent(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.answer.get("ok")]

    def texts(self, chat_id: int) -> list[str]:
        """The bot's messages in a chat as Telegram shows them now (formatting parsed, edits applied)."""
        return [m["text"] for (chat, _), m in sorted(self.messages.items())
                if chat == chat_id and m["from"]["id"] == self.bot_id and "text" in m]

    def _message(self, chat: dict[str, Any], user_id: int, text: str | None, *, reply_to: int | None = None,
                 photo: bytes | None = None, caption: str | None = None, username: str | None = None,
                 entities: list[dict[str, Any]] | None = None) -> int:
        message_id = next(self._ids)
        sender = {"id": user_id, "is_bot": False, "first_name": f"user{user_id}", "username": username}
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                                   "from": {k: v for k, v in sender.items() if v is not None}}
        if text is not None:
            message["text"] = text
        if entities:
            message["entities"] = entities
        if photo is not None:
            file_id, _ = self.add_file(photo)
            message["photo"] = [{"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 90},
                                {"file_id": file_id, "file_unique_id": "l", "width": 800, "height": 800,
                                 "file_size": len(photo)}]
            if caption is not None:
                message["caption"] = caption
        if reply_to is not None:
            message["reply_to_message"] = self.messages[(chat["id"], reply_to)]
        self.messages[(chat["id"], message_id)] = message
        self.push({"update_id": next(self._update_ids), "message": message})
        return message_id

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    # -- the API ------------------------------------------------------------------------------
    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.match_info["method"]
        params, files = await read_params(request)
        call = Call(method, params, files)
        self.calls.append(call)
        call.answer = await self._answer(method, params, files)
        status = call.answer.get("error_code", 200)
        return json_response(call.answer, status)

    async def _answer(self, method: str, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        now = time.monotonic()
        if now < self._flood.get(method, 0.0):
            self.early += 1
            left = int(self._flood[method] - now) + 1
            return error(429, f"Too Many Requests: retry after {left}", retry_after=left)
        queued = self._failures.get(method)
        if queued:
            scripted = queued.popleft()
            retry_after = scripted.get("parameters", {}).get("retry_after")
            if retry_after is not None:
                self._flood[method] = now + retry_after
            return scripted
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return error(404, "Not Found: method not found")
        result = await handler(params, files)
        return result if isinstance(result, dict) and "error_code" in result else {"ok": True, "result": result}

    async def _api_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Switchboard", "username": self.username}

    async def _api_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset", 0))
        while self._updates and update_id(self._updates[0]) is not None and update_id(self._updates[0]) < offset:
            self._updates.popleft()  # confirmed by the offset
        if not self._updates:
            with contextlib.suppress(TimeoutError):
                async with self._arrived, asyncio.timeout(float(params.get("timeout", 0))):
                    await self._arrived.wait_for(lambda: bool(self._updates) or self._closing)
        updates = list(self._updates)
        # what cannot be confirmed by an offset (no update_id) is handed out once
        self._updates = deque(u for u in updates if update_id(u) is not None)
        return updates

    async def _api_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        return True

    async def _api_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        text = self._parsed(params)
        if isinstance(text, dict):
            return text
        return self._bot_message(params, {"text": text})

    async def _api_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        message = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
        if message is None:
            return error(400, "Bad Request: message to edit not found")
        text = self._parsed(params)
        if isinstance(text, dict):
            return text
        if text == message["text"] and params.get("parse_mode") == message.get("_parse_mode"):
            return error(400, "Bad Request: message is not modified: specified new message content and reply "
                               "markup are exactly the same as a current content and reply markup of the message")
        message.update(text=text, _parse_mode=params.get("parse_mode"), edit_date=int(time.time()))
        return message

    async def _api_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._media("photo", params, files)

    async def _api_sendVideo(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._media("video", params, files)

    async def _api_sendAudio(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._media("audio", params, files)

    def _media(self, kind: str, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        if kind not in files:
            return error(400, f"Bad Request: there is no {kind} in the request")
        file_id, _ = self.add_file(files[kind])
        about = {"file_id": file_id, "file_unique_id": "p", "file_size": len(files[kind])}
        return self._bot_message(params, {kind: [about] if kind == "photo" else about})

    async def _api_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        file_id = str(params.get("file_id", ""))
        path = f"photos/file_{file_id.removeprefix('file-')}.png"
        if path not in self.files:
            return error(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": "u", "file_size": len(self.files[path]), "file_path": path}

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["path"])
        if request.match_info["token"] != self.token or data is None:
            return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(body=data, content_type="application/octet-stream")

    def _parsed(self, params: dict[str, Any]) -> str | dict[str, Any]:
        text = str(params.get("text", ""))
        mode = params.get("parse_mode")
        if mode is not None:
            if self.reject_entities:
                return error(400, "Bad Request: can't parse entities: Can't find end of the entity starting "
                                   "at byte offset 10")
            parser = Html()
            parser.feed(text)
            parser.close()
            if mode != "HTML" or parser.error or parser.open:
                return error(400, f"Bad Request: can't parse entities: {parser.error or 'unclosed tags'}")
            text = parser.text
        if not text.strip():
            return error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return error(400, "Bad Request: message is too long")
        return text

    def _bot_message(self, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._ids), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "Switchboard", "username": self.username},
            "_parse_mode": params.get("parse_mode"), **content}
        quoted = (params.get("reply_parameters") or {}).get("message_id")
        if quoted is not None and (chat_id, int(quoted)) in self.messages:
            message["reply_to_message"] = self.messages[(chat_id, int(quoted))]
        self.messages[(chat_id, message["message_id"])] = message
        return message

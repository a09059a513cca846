"""What the operator configures for the Mio-Chat face (read from settings by the app)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard.faces._shared.trusted import TrustedCaller
from switchboard.faces.miochat.auth import Codes

# sends one frame to the client (a WebSocket, or the list an HTTP request collects)
Emit = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class MioOptions:
    codes: Codes = field(default_factory=Codes)
    bot_qq: str = "10000"
    admin_qq: str = ""
    login_timeout: float = 2.0
    heartbeat_timeout: float = 90.0
    max_frame_bytes: int = 1024 * 1024
    share_base_url: str | None = None
    stream_heartbeat: float = 15.0  # HTTP completions: a blank line when the model is silent this long
    turns_per_socket: int = 4  # answers one socket may have running at once
    turns_per_user: int = 8  # ... and all the sockets of one user together (per worker)
    title: str = "Mio-Chat"  # /api/base_info: what the web client shows
    beian: str = ""
    full_screen: bool = False
    trusted: TrustedCaller | None = None  # credential-less HTTP calls act as this key (off: None)
    serves_web_client: bool = False  # a Mio-Chat build is served at `/`: its router shows /s/<id>
    max_share_bytes: int = 2 * 1024 * 1024  # one snapshot (the posted contactor)
    cancel_on_disconnect: bool = True  # off: an answer runs to its end after its socket dropped

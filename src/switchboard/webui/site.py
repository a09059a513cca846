"""The web app's files at `/`: a pure ASGI app the application calls for every path no route took.

- `/assets/*` (Vite's hashed names: a new build makes new names) may be cached for a year;
  everything else, `index.html` above all, is revalidated on every load (`no-cache` + ETag), so a
  new build reaches people on their next reload.
- `/` and every other unknown GET/HEAD path answer `index.html`: the app routes on the client, and
  a deep link (`/c/<id>`, `/admin/users`) must open after a reload.
- A path under an API root (the first segment of a face's prefix: `/api`, `/v1`, ...), another
  method or a WebSocket goes to `fallback`, the application's JSON 404 in that face's envelope.
- Files are looked up by Starlette's StaticFiles, which refuses `..` and symlinks out of the folder.
- Without a build every page says how to make one; the APIs are unaffected.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

import anyio.to_thread
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

BUILD_COMMAND = "./scripts/build-web"
ASSETS = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
# No inline script anywhere (the build emits none), so injected markup cannot run code. Svelte
# puts component styles in the built CSS file, so styles need no 'unsafe-inline' either.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; "
       "form-action 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin"}

NOT_BUILT = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard</title></head>
<body><h1>Switchboard</h1>
<p>The web app is not built yet. Build it with <code>{BUILD_COMMAND}</code> (needs node and npm;
<code>./scripts/serve</code> does it for you) and reload this page.</p>
<p>Every API works without it: see <a href="/docs">/docs</a>.</p>
</body></html>
"""


def api_roots(prefixes: Iterable[str]) -> frozenset[str]:
    """`/api/auth` -> `/api`: the whole first segment is the API's, so `/api/nothing` is a JSON 404."""
    return frozenset("/" + segment for p in prefixes if (segment := p.strip("/").split("/")[0]))


class WebSite:
    def __init__(self, dist: Path, *, api_prefixes: Iterable[str], fallback: ASGIApp, csp: str | None = CSP) -> None:
        """`csp=None`: another web app's build (Mio-Chat's), whose pages our policy would break."""
        self.dist = dist
        self._headers = {**SECURITY_HEADERS, "Content-Security-Policy": csp} if csp else {
            k: v for k, v in SECURITY_HEADERS.items() if k != "Content-Security-Policy"}
        self._roots = api_roots(api_prefixes)
        self._fallback = fallback
        self._files = StaticFiles(directory=dist, check_dir=False)

    @property
    def built(self) -> bool:
        return (self.dist / "index.html").is_file()

    def is_api(self, path: str) -> bool:
        return "/" + path.strip("/").split("/")[0] in self._roots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or self.is_api(path):
            await self._fallback(scope, receive, send)
            return
        response = await self._response(path, scope)
        if response is None:
            await self._fallback(scope, receive, send)
            return
        response.headers.update(self._headers)
        await response(scope, receive, send)

    async def _response(self, path: str, scope: Scope) -> Response | None:
        """The file for `path`, `index.html` for a page, or None: a missing asset is a 404, never
        the page (a browser would run HTML as a script and report a confusing error)."""
        if not self.built:
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-cache"})
        found = await self._file(path, scope)
        if path.startswith(ASSETS):
            if found is not None:
                found.headers["Cache-Control"] = IMMUTABLE
            return found
        page = found or await self._file("/index.html", scope)
        if page is not None:
            page.headers["Cache-Control"] = "no-cache"
        return page

    async def _file(self, path: str, scope: Scope) -> Response | None:
        relative = self._files.get_path({**scope, "path": path, "root_path": ""})
        try:
            full_path, found = await anyio.to_thread.run_sync(self._files.lookup_path, relative)
        except (OSError, ValueError):  # a name too long, a NUL byte: no such file
            return None
        if found is None or not stat.S_ISREG(found.st_mode):
            return None
        return self._files.file_response(full_path, found, scope)

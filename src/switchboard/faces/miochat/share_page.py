"""The read-only HTML page of a shared conversation. Every piece of text is escaped."""

from __future__ import annotations

from html import escape

from switchboard.faces.miochat.share_snapshot import ChainLine

STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;background:#eef1f6;margin:0;color:#1c2028}
main{max-width:760px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:8px 0 16px}
.msg{background:#fff;border-radius:12px;padding:12px 16px;margin:10px 0;white-space:pre-wrap;word-break:break-word}
.user{background:#dbeafe;margin-left:15%}
.who{font-size:12px;color:#6e7682;margin-bottom:4px}
img.preview{max-width:100%;border-radius:12px}
footer{color:#6e7682;font-size:12px;margin:24px 0}
"""


def share_html(title: str, lines: list[ChainLine], created: str, preview_url: str) -> str:
    title = escape(title)
    items = []
    for line in lines:
        who, css = ("我", "msg user") if line.role == "user" else ("assistant", "msg")
        items.append(f'<div class="{css}"><div class="who">{who}</div>{escape(line.text)}</div>')
    body = "\n".join(items) or '<p class="msg">(no messages yet)</p>'
    return (
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<meta name=\"robots\" content=\"noindex\"><title>{title}</title>"
        f"<meta property=\"og:image\" content=\"{escape(preview_url)}\"><style>{STYLE}</style></head>"
        f"<body><main><h1>{title}</h1>{body}"
        f"<footer>Shared read-only from Switchboard · {escape(created)}</footer>"
        "</main></body></html>"
    )

"""A model's Markdown as Telegram HTML (`parse_mode: HTML`). HTML rather than MarkdownV2: models
do not escape MarkdownV2's eighteen reserved characters, so nearly every answer would be refused,
while HTML needs only `& < >` escaped. Fenced code becomes <pre><code>, inline code <code>,
**bold** / __bold__ <b>, *italic* / _italic_ <i>, ~~struck~~ <s>, [text](http…) links, headings
bold. Whatever Telegram still refuses is sent again as plain text (sender)."""

from __future__ import annotations

import html
import re

_FENCE = re.compile(r"```([\w+#-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_ITALIC = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?![\w*])|(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*$", re.MULTILINE)


def to_html(markdown: str) -> str:
    out: list[str] = []
    at = 0
    for fence in _FENCE.finditer(markdown):
        out.append(_inline(markdown[at:fence.start()]))
        language = fence.group(1)
        attribute = f' class="language-{html.escape(language)}"' if language else ""
        out.append(f"<pre><code{attribute}>{html.escape(fence.group(2).rstrip(), quote=False)}</code></pre>")
        at = fence.end()
    out.append(_inline(markdown[at:]))
    return "".join(out)


def _inline(text: str) -> str:
    out: list[str] = []
    at = 0
    for code in _INLINE_CODE.finditer(text):
        out.append(_styled(text[at:code.start()]))
        out.append(f"<code>{html.escape(code.group(1), quote=False)}</code>")
        at = code.end()
    out.append(_styled(text[at:]))
    return "".join(out)


def _styled(text: str) -> str:
    links: list[str] = []

    def link(match: re.Match[str]) -> str:  # links first, so their URLs are not read as emphasis
        links.append(f'<a href="{html.escape(match.group(2))}">{html.escape(match.group(1), quote=False)}</a>')
        return f"\x00{len(links) - 1}\x00"

    text = html.escape(_LINK.sub(link, text), quote=False)
    text = _HEADING.sub(lambda m: f"<b>{m.group(1)}</b>", text)
    text = _BOLD.sub(lambda m: f"<b>{m.group(1) or m.group(2)}</b>", text)
    text = _ITALIC.sub(lambda m: f"<i>{m.group(1) or m.group(2)}</i>", text)
    text = _STRIKE.sub(lambda m: f"<s>{m.group(1)}</s>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: links[int(m.group(1))], text)

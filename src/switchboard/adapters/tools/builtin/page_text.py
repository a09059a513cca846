"""From fetched bytes to what a model can read: title, plain text and absolute links."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from switchboard.adapters.tools.builtin.base import ToolFailure

# Never readable content, or page chrome repeated on every page of a site.
_DROPPED_TAGS = ("script", "style", "noscript", "template", "nav", "svg", "iframe", "object", "embed")
# Elements whose end is a line break in the rendered page.
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "main", "header", "footer",
    "aside", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "dd", "dt", "figcaption", "hr",
)  # fmt: skip
_TEXT_TYPES = ("text/plain", "text/markdown", "text/csv", "application/json", "application/xml", "text/xml")


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class PageContent:
    title: str | None
    text: str
    links: list[Link] = field(default_factory=list)


def _tidy(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset name Python does not know
        return body.decode("utf-8", errors="replace")


def _links(soup: BeautifulSoup, base_url: str, max_links: int) -> list[Link]:
    found: dict[str, Link] = {}
    if max_links <= 0:
        return []
    for anchor in soup.find_all("a", href=True):
        if not isinstance(anchor, Tag):
            continue
        absolute = urljoin(base_url, str(anchor["href"]).strip()).split("#", 1)[0]
        if urlsplit(absolute).scheme not in ("http", "https") or absolute in found:
            continue
        found[absolute] = Link(text=" ".join(anchor.get_text(" ").split())[:200], url=absolute)
        if len(found) >= max_links:
            break
    return list(found.values())


def parse_html(body: bytes, charset: str | None, base_url: str, max_links: int) -> PageContent:
    soup = BeautifulSoup(body, "html.parser", from_encoding=charset)
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else None
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag):
        base_url = urljoin(base_url, str(base_tag["href"]))
    links = _links(soup, base_url, max_links)  # before nav goes: menus still lead somewhere useful
    for name in _DROPPED_TAGS:
        for element in soup.find_all(name):
            element.decompose()
    if title_tag is not None and isinstance(title_tag, Tag):
        title_tag.decompose()
    for block in soup.find_all(_BLOCK_TAGS):
        if isinstance(block, Tag):
            block.insert_before(NavigableString("\n"))
            block.append(NavigableString("\n"))
    return PageContent(title=title or None, text=_tidy(soup.get_text()), links=links)


def extract_page(body: bytes, *, content_type: str, charset: str | None, base_url: str, max_links: int) -> PageContent:
    # Servers that send no type get aiohttp's default, octet-stream: sniff for markup then.
    sniffed_html = content_type == "application/octet-stream" and body.lstrip()[:1] == b"<"
    if content_type in ("text/html", "application/xhtml+xml") or sniffed_html:
        return parse_html(body, charset, base_url, max_links)
    if content_type in _TEXT_TYPES or content_type.startswith("text/"):
        return PageContent(title=None, text=_decode(body, charset).strip())
    raise ToolFailure(f"cannot read content of type {content_type}: only HTML and text pages are supported")

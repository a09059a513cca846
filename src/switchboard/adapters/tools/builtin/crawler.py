"""Crawler tools: read a web page, search a web page for a phrase."""

from __future__ import annotations

import re
from typing import Any

from switchboard.adapters.tools.builtin.base import ToolFailure, object_schema
from switchboard.adapters.tools.builtin.page_text import PageContent, extract_page
from switchboard.adapters.tools.builtin.web_fetch import CrawlerNetwork, FetchedPage
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec

_URL = {"type": "string", "minLength": 1, "maxLength": 2048, "description": "An http or https URL."}


async def _read_page(
    network: CrawlerNetwork, url: str, ctx: ToolContext, max_links: int
) -> tuple[FetchedPage, PageContent]:
    page = await network.fetcher_for(ctx).fetch(url)
    if page.status >= 400:
        raise ToolFailure(f"{page.url} answered HTTP {page.status}")
    content = extract_page(
        page.body, content_type=page.content_type, charset=page.charset, base_url=page.url, max_links=max_links
    )
    return page, content


class FetchPage:
    def __init__(self, network: CrawlerNetwork, *, max_links: int = 50, timeout_s: float = 30.0) -> None:
        self._network = network
        self._max_links = max_links
        self.spec = ToolSpec(
            name="fetch_page",
            description=(
                "Fetch a web page and return its title, readable text and the links on it. "
                "Use it to read a URL the user gave or one found in search results."
            ),
            parameters=object_schema(
                {
                    "url": _URL,
                    "max_chars": {
                        "type": "integer",
                        "minimum": 200,
                        "maximum": 50_000,
                        "default": 8000,
                        "description": "How much of the page text to return.",
                    },
                    "include_links": {"type": "boolean", "default": True},
                },
                ["url"],
            ),
            category="crawler",
            timeout_s=timeout_s,
        )

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        max_chars = int(arguments.get("max_chars", 8000))
        include_links = bool(arguments.get("include_links", True))
        page, content = await _read_page(self._network, arguments["url"], ctx, self._max_links)
        text = content.text
        notes: list[str] = []
        if page.truncated:
            notes.append("the page was larger than the download limit; only its beginning was read")
        if len(text) > max_chars:
            notes.append(f"text cut at {max_chars} of {len(text)} characters")
            text = text[:max_chars]
        lines = [f"URL: {page.url}"]
        if content.title:
            lines.append(f"Title: {content.title}")
        if notes:  # first, so it survives when the host cuts a long answer
            lines.append("Note: " + "; ".join(notes) + ".")
        lines += ["", text or "(no readable text)"]
        links = content.links if include_links else []
        if links:
            lines += ["", "Links:"] + [f"- {link.text or '(no text)'}: {link.url}" for link in links]
        data = {
            "url": page.url,
            "title": content.title,
            "text": text,
            "links": [{"text": link.text, "url": link.url} for link in links],
            "truncated": bool(notes),
        }
        return ToolOutcome(content="\n".join(lines), data=data)


def find_snippets(
    text: str, phrase: str, *, context_chars: int, max_matches: int, case_sensitive: bool
) -> tuple[int, list[str]]:
    """Every occurrence counted, the first `max_matches` shown with text around them."""
    pattern = re.compile(re.escape(phrase), 0 if case_sensitive else re.IGNORECASE)
    matches = list(pattern.finditer(text))
    snippets = []
    for match in matches[:max_matches]:
        start, end = max(0, match.start() - context_chars), min(len(text), match.end() + context_chars)
        snippet = " ".join(text[start:end].split())
        snippets.append(("…" if start else "") + snippet + ("…" if end < len(text) else ""))
    return len(matches), snippets


class FindInPage:
    def __init__(self, network: CrawlerNetwork, *, timeout_s: float = 30.0) -> None:
        self._network = network
        self.spec = ToolSpec(
            name="find_in_page",
            description="Fetch a web page and return the passages where a phrase occurs, with text around each.",
            parameters=object_schema(
                {
                    "url": _URL,
                    "phrase": {"type": "string", "minLength": 1, "maxLength": 200},
                    "context_chars": {"type": "integer", "minimum": 20, "maximum": 1000, "default": 150},
                    "max_matches": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                    "case_sensitive": {"type": "boolean", "default": False},
                },
                ["url", "phrase"],
            ),
            category="crawler",
            timeout_s=timeout_s,
        )

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        phrase = arguments["phrase"]
        page, content = await _read_page(self._network, arguments["url"], ctx, max_links=0)
        total, snippets = find_snippets(
            content.text,
            phrase,
            context_chars=int(arguments.get("context_chars", 150)),
            max_matches=int(arguments.get("max_matches", 10)),
            case_sensitive=bool(arguments.get("case_sensitive", False)),
        )
        data = {"url": page.url, "matches": total, "snippets": snippets}
        if not total:
            return ToolOutcome(content=f"No match for {phrase!r} in {page.url}.", data=data)
        shown = f" (showing {len(snippets)})" if len(snippets) < total else ""
        lines = [f"{total} match(es) for {phrase!r} in {page.url}{shown}:"]
        lines += [f"{number}. {snippet}" for number, snippet in enumerate(snippets, 1)]
        return ToolOutcome(content="\n".join(lines), data=data)

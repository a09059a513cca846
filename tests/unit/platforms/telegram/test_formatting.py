"""A model's Markdown as Telegram HTML: the styles Telegram has, everything else escaped."""

from __future__ import annotations

import pytest

from switchboard.platforms.telegram.formatting import to_html


@pytest.mark.parametrize(("markdown", "html"), [
    ("plain & simple <tag>", "plain &amp; simple &lt;tag&gt;"),
    ("**bold** and __bold__", "<b>bold</b> and <b>bold</b>"),
    ("*it* and _it_", "<i>it</i> and <i>it</i>"),
    ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
    ("~~gone~~", "<s>gone</s>"),
    ("`a < b` and `**x**`", "<code>a &lt; b</code> and <code>**x**</code>"),
    ("[docs](https://e.com/a_b?x=1&y=2)", '<a href="https://e.com/a_b?x=1&amp;y=2">docs</a>'),
    ("[bad](javascript:alert(1))", "[bad](javascript:alert(1))"),
    ("# Title\ntext", "<b>Title</b>\ntext"),
    ("```py\nif a < b:\n    pass\n```", '<pre><code class="language-py">if a &lt; b:\n    pass</code></pre>'),
    ("```\nunclosed *code", "<pre><code>unclosed *code</code></pre>"),
])
def test_markdown_becomes_telegram_html(markdown: str, html: str) -> None:
    assert to_html(markdown) == html

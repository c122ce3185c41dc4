"""ui.text: a visitor's text shows as itself, never as a link, an image, emphasis or HTML."""

from __future__ import annotations

import html

import pytest
from markdown_it import MarkdownIt

from ui.text import plain, quoted

HOSTILE = [
    "![p](http://127.0.0.1:9/x.gif)",
    "[Sign in to keep your runs](https://example.invalid/login)",
    "`code` ``x`` and a back`tick",
    "__class__",
    "**bold** *it* _it_ ~~s~~",
    "<img src=x onerror=alert(1)>",
    "# heading\n\n- list",
    ":red[alarm] :material/home: $x^2$",
    "http://127.0.0.1:9/autolink <http://127.0.0.1:9/>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_renders_no_markup(text: str) -> None:
    rendered = MarkdownIt("commonmark").render(plain(text))
    for tag in ("<a", "<img", "<em", "<strong", "<code", "<h1", "<ul", "<li"):
        assert tag not in rendered, (text, rendered)


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_keeps_every_character_on_one_line(text: str) -> None:
    rendered = MarkdownIt("commonmark").render(plain(text))
    inner = rendered.removeprefix("<p>").removesuffix("</p>\n")
    assert html.unescape(inner) == " ".join(text.split())


def test_long_text_is_cut_and_quoted() -> None:
    assert len(plain("a" * 1000)) == 200
    assert plain("a" * 1000).endswith("…")
    assert quoted("x*y") == "“x\\*y”"

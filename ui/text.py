"""Text that came from a visitor, made safe to show inside Streamlit's Markdown.

Streamlit renders Markdown in st.markdown, st.caption, st.warning, st.error, st.info, button
labels and more: a link or image in a query value, a CSV column name or a file name would be
rendered live (the browser fetches an image URL the moment it is drawn). Everything a visitor
typed, uploaded or put in a URL goes through `plain()` before it meets one of those calls; where a
whole message is user text, `st.text` / `st.code` show it without any Markdown at all.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and then stands for
# itself. Escaping all of them (not a hand-picked few) also disarms Streamlit's own extensions:
# :red[...] colours, :material/...: icons, $...$ LaTeX, and raw HTML.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_WHITESPACE = re.compile(r"\s+")
MAX_SHOWN = 200  # characters of a visitor's text shown back; the rest is elided


def plain(value: object, limit: int = MAX_SHOWN) -> str:
    """`value` as Markdown that displays exactly its characters: on one line, no link, image,
    emphasis, heading, code span or HTML, at most `limit` characters (then an ellipsis)."""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", text)


def quoted(value: object, limit: int = MAX_SHOWN) -> str:
    """`plain(value)` between typographic quotes, for messages like: unknown dataset “…”."""
    return f"“{plain(value, limit)}”"

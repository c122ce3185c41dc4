"""Text that came from a visitor, made safe to show inside Streamlit's Markdown.

Streamlit renders Markdown in st.markdown, st.caption, st.warning, st.error, st.info, button
labels and more: a link or image in a query value, a CSV column name or a file name would be
rendered live (the browser fetches an image URL the moment it is drawn). Everything a visitor
typed, uploaded or put in a URL goes through `plain()` before it meets one of those calls; where a
whole message is user text, `st.text` / `st.code` show it without any Markdown at all.
"""

from __future__ import annotations

import logging
import re

from core.constants import CSV_PREFIX
from core.data.upload import upload_meta

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and then stands for
# itself. Escaping all of them (not a hand-picked few) also disarms Streamlit's own extensions:
# :red[...] colours, :material/...: icons, $...$ LaTeX, and raw HTML.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_WHITESPACE = re.compile(r"\s+")
MAX_SHOWN = 200  # characters of a visitor's text shown back; the rest is elided
MAX_MESSAGE = 1000  # an error message quoting visitor text is longer than the text itself
log = logging.getLogger(__name__)


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


# An absolute POSIX path (not the path part of a URL: no ':' or '/' right before it).
_SERVER_PATH = re.compile(r"(?<![\w:/.~-])/(?:[\w.~+-]+/)+[\w.~+-]*")
_DATASET_NAME = re.compile(r"\bThe (?:cached )?(\w+) (?:dataset|file)\b")


def public_error(err: BaseException | str) -> str:
    """An error message as safe Markdown for a public page, without the server's paths.

    A message that names a path on the server (the Keras cache under the server's home, the
    store file) is for the operator: it goes to the log in full and the page gets a generic
    sentence pointing there and to the CLI, which prints the full message.
    """
    text = str(err)
    if not _SERVER_PATH.search(text):
        return plain(text, limit=MAX_MESSAGE)
    log.warning("shown to a visitor without its paths: %s", text)
    found = _DATASET_NAME.search(text)
    what = f"The {found.group(1)} file" if found else "A file this needs"
    return plain(
        f"{what} is not available on this server. The operator's log has the details, and "
        "python -m core compare --dataset NAME on the server prints where the file belongs.",
        limit=MAX_MESSAGE,
    )


def dataset_label(name: str) -> str:
    """How a dataset is named to a visitor: uploads by their file name (plain text for widgets;
    pass it through ui.text.plain before Markdown)."""
    if not name.startswith(CSV_PREFIX):
        return name
    meta = upload_meta(name)
    file_name = (meta or {}).get("file_name")
    return f"{file_name} ({name})" if file_name else name

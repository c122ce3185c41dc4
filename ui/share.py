"""A comparison as URL query parameters, and back: the share link.

Format (knob names as everywhere): `?learning_rate=0.1&vary=batch_size:32,128&seeds=3` — the
baseline knobs that differ from the page's preset, up to two `vary` entries, and `seeds`.
URL values are untrusted strings: they go through the same validation as any other input and
a bad link yields a message and the page's defaults, never an exception. Pure functions (no
Streamlit), so they are tested directly.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from urllib.parse import quote

from core.constants import CSV_PREFIX
from core.spec import KNOBS, Comparison, parse_knob, value_text

MAX_PARAM_CHARS = 300  # longer values are not a plausible link: refuse rather than parse
OTHER_PARAMS = {"vary", "seeds", "claim", "tab"}  # ours besides the knobs; anything else is ignored
_UPLOAD_NAME = re.compile(re.escape(CSV_PREFIX) + r"[0-9a-f]{12}")  # what register_csv names
_SAFE_IN_QUERY = ":,"  # readable in a shown link, and no Markdown meaning


def query_text(params: Mapping[str, list[str]]) -> str:
    """The link's query string as shown on the page: our parameters only, percent-encoded, so
    no backtick, bracket or asterisk a visitor put in the URL survives into the Markdown."""
    return "&".join(
        f"{quote(k, safe='')}={quote(v, safe=_SAFE_IN_QUERY)}"
        for k, vs in params.items()
        if k in KNOBS or k in OTHER_PARAMS
        for v in vs
    )


def encode(comparison: Comparison, preset: Comparison) -> dict[str, str | list[str]]:
    """Query params for `comparison`, leaving out what equals the page preset."""
    params: dict[str, str | list[str]] = {}
    for name in KNOBS:
        value = getattr(comparison.baseline, name)
        if value != getattr(preset.baseline, name):
            params[name] = value_text(value)
    if comparison.vary != preset.vary:
        params["vary"] = [f"{n}:{','.join(value_text(v) for v in vs)}" for n, vs in comparison.vary] or [
            "none"
        ]
    if comparison.seeds != preset.seeds:
        params["seeds"] = str(comparison.seeds)
    return params


def decode(params: Mapping[str, list[str]], preset: Comparison) -> Comparison:
    """The comparison a link describes, on top of the page preset. Raises ValueError with a
    user-facing message for anything invalid (unknown knob values, limits, malformed vary)."""
    changes = {}
    for name, values in params.items():
        if name not in KNOBS and name not in OTHER_PARAMS:
            continue  # e.g. tracking parameters added by a chat app: not ours to judge
        if any(len(v) > MAX_PARAM_CHARS for v in values):
            raise ValueError(f"the link's {name[:40]!r} value is too long")
        if name == "dataset" and values[-1].startswith(CSV_PREFIX) and not _UPLOAD_NAME.fullmatch(values[-1]):
            raise ValueError("the link's dataset is not the name of an uploaded CSV (csv: and 12 hex digits)")
        if name in KNOBS:
            changes[name] = parse_knob(name, values[-1])
    baseline = dataclasses.replace(preset.baseline, **changes)
    vary = _vary(params["vary"]) if "vary" in params else dict(preset.vary)
    seeds = preset.seeds
    if "seeds" in params:
        text = params["seeds"][-1].strip()
        if not text.isdigit():
            raise ValueError(f"seeds={text[:20]!r} is not a whole number")
        seeds = int(text)  # its range is checked by Comparison
    return Comparison.of(baseline, vary, seeds)


def _vary(items: list[str]) -> dict[str, list[str]]:
    """`vary` entries (KNOB:V1,V2 or "none"); a knob named twice is refused, not overwritten."""
    vary: dict[str, list[str]] = {}
    for item in items:
        if item == "none":
            continue
        name, sep, values = item.partition(":")
        if not sep or name not in KNOBS:
            raise ValueError(f"the link's vary={item[:60]!r} is not KNOB:V1,V2,... with a known knob")
        if name in vary:
            raise ValueError(f"the link varies {name} twice: give its values once, comma-separated")
        vary[name] = [v for v in values.split(",") if v.strip()]
    return vary

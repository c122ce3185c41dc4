"""A comparison as URL query parameters, and back: the share link.

Format (knob names as everywhere): `?learning_rate=0.1&vary=batch_size:32,128&seeds=3` — the
baseline knobs that differ from the page's preset, up to two `vary` entries, and `seeds`.
URL values are untrusted strings: they go through the same validation as any other input and
a bad link yields a message and the page's defaults, never an exception. Pure functions (no
Streamlit), so they are tested directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from core.spec import KNOBS, Comparison, parse_knob, value_text

MAX_PARAM_CHARS = 300  # longer values are not a plausible link: refuse rather than parse
OTHER_PARAMS = {"vary", "seeds", "claim", "tab"}  # ours besides the knobs; anything else is ignored


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
        if name in KNOBS:
            changes[name] = parse_knob(name, values[-1])
    baseline = dataclasses.replace(preset.baseline, **changes)
    vary = dict(preset.vary)
    if "vary" in params:
        vary = {}
        for item in params["vary"]:
            if item == "none":
                continue
            name, sep, values = item.partition(":")
            if not sep or name not in KNOBS:
                raise ValueError(f"the link's vary={item[:60]!r} is not KNOB:V1,V2,... with a known knob")
            vary[name] = [v for v in values.split(",") if v.strip()]
    seeds = preset.seeds
    if "seeds" in params:
        text = params["seeds"][-1].strip()
        if not text.isdigit():
            raise ValueError(f"seeds={text[:20]!r} is not a whole number")
        seeds = int(text)  # its range is checked by Comparison
    return Comparison.of(baseline, vary, seeds)

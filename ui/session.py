"""What a page needs from the session and the server without drawing anything: the run store,
this session's id, quick mode, and the banner shown when results cannot be saved.

Kept apart from ui.state (which sets a page up and starts the training backend) so that the
modules ui.state's set-up uses (builder, run, jobs) can import these without an import cycle.
"""

from __future__ import annotations

import os
import secrets
import threading

import streamlit as st

from core.store import RunStore
from ui.text import plain

banner = threading.local()  # this script run's slot for the "not being saved" banner
QUICK_ENV = "WHATIF_QUICK"  # tests and demos: shrink every preset to a couple of epochs


def quick() -> bool:
    return os.environ.get(QUICK_ENV, "") == "1"


def session_id() -> str:
    """A random id for this browser session (not a secret: it only labels the runs it trained)."""
    return st.session_state.setdefault("session_id", secrets.token_hex(8))


def show_banner(runs: RunStore) -> None:
    """Fill this script run's banner slot (a no-op outside a page, e.g. in the CLI)."""
    slot = getattr(banner, "slot", None)
    if slot is not None:
        slot.warning(unsaved_banner(runs), icon="⚠️")


def unsaved_banner(runs: RunStore) -> str:
    """The one banner of a store that cannot be written: why, and what that means for results.
    No path: the operator's log (and `python -m core`) name the file."""
    replay = "Stored runs still replay; " if runs.mode == "ro" else ""
    return (
        f"Results are not being saved: {plain(runs.unsaved)}. {replay}runs trained now are kept in "
        "memory only until the server restarts. The operator's log has the details."
    )


@st.cache_resource(show_spinner=False)
def store() -> RunStore:
    """One RunStore per process: it keeps a connection per thread, so sessions can share it."""
    runs = RunStore()
    runs.on_unsaved = show_banner  # runs in the script thread that was storing: its own page
    return runs

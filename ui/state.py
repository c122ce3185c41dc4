"""What every page sets up for itself, so it renders the same whether reached through the app's
navigation, a deep link on a freshly started server, or `AppTest.from_file("pages/x.py")`."""

from __future__ import annotations

import os

import streamlit as st

from core.hardware import accelerator
from core.store import RunStore

QUICK_ENV = "WHATIF_QUICK"  # tests and demos: shrink every preset to a couple of epochs


def quick() -> bool:
    return os.environ.get(QUICK_ENV, "") == "1"


def setup(title: str, icon: str = "🧪") -> None:
    """Page config, session defaults and the device badge: the first lines of every page."""
    st.set_page_config(page_title=f"{title} · what-if explorer", page_icon=icon, layout="wide")
    st.session_state.setdefault("results", {})  # page key -> last ComparisonResult shown
    st.session_state.setdefault("comparisons", {})  # page key -> Comparison last asked for
    if not st.session_state.pop("badge_drawn", False):  # app.py draws it when it ran first
        st.sidebar.caption(f"🖥️ {accelerator()}")
    _sidebar_links()
    st.sidebar.caption("Runs are stored and replay instantly for everyone.")
    notice = store().notice
    if notice:
        st.sidebar.warning(notice)


def _sidebar_links() -> None:
    """Our grouped page list. Drawn by every page (not by st.navigation, which is hidden) so a
    deep link on a fresh server, which skips app.py, shows the same navigation."""
    from ui.nav import PAGES
    from ui.panels import page_link

    section = None
    with st.sidebar:
        for page in PAGES:
            if page.section != section:
                section = page.section
                if section:
                    st.caption(section.upper())
            page_link(page)


@st.cache_resource(show_spinner=False)
def store() -> RunStore:
    """One RunStore per process: it keeps a connection per thread, so sessions can share it."""
    return RunStore()

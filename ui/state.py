"""What every page sets up for itself, so it renders the same whether reached through the app's
navigation, a deep link on a freshly started server, or `AppTest.from_file("pages/x.py")`."""

from __future__ import annotations

import streamlit as st

from core.hardware import accelerator
from core.store import set_owner
from ui.jobs import start_app_backend
from ui.session import banner, session_id, show_banner, store
from ui.warm import page_defaults


def setup(title: str, icon: str = "🧪") -> None:
    """Page config, session defaults and the device badge: the first lines of every page."""
    st.set_page_config(page_title=f"{title} · what-if explorer", page_icon=icon, layout="wide")
    start_app_backend(page_defaults)  # once per server: the worker, warmed with every page's default
    st.session_state.setdefault("results", {})  # page key -> last ComparisonResult shown
    st.session_state.setdefault("comparisons", {})  # page key -> Comparison last asked for
    if not st.session_state.pop("badge_drawn", False):  # app.py draws it when it ran first
        st.sidebar.caption(f"🖥️ {accelerator()}")
    _sidebar_links()
    # Runs this session stores are its own: it may discard them without the admin secret.
    set_owner(session_id())
    runs = store()
    banner.slot = st.empty()  # filled now, or by the store the moment saving stops (a full disk)
    if runs.unsaved:
        show_banner(runs)
    else:
        st.sidebar.caption("Runs are stored and replay instantly for everyone.")
    if runs.public_notice:
        st.sidebar.warning(runs.public_notice)


def page(title: str, icon: str, heading: str | None = None) -> None:
    """setup() and the title every topic page opens with: its icon and name unless `heading`
    says more."""
    setup(title, icon)
    st.title(heading or f"{icon} {title}")


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

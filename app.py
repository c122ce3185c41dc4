"""Entry point: page config, navigation over the topic pages, and the device badge. Nothing else."""

import streamlit as st

from core.hardware import accelerator
from ui.nav import PAGES

st.set_page_config(page_title="Hyperparameter what-if explorer", page_icon="🧪", layout="wide")
sections: dict[str, list] = {}
for page in PAGES:
    sections.setdefault(page.section, []).append(
        st.Page(page.path, title=page.title, icon=page.icon, default=page.path == "pages/home.py")
    )
st.sidebar.caption(f"🖥️ {accelerator()}")
st.session_state["badge_drawn"] = True
st.navigation(sections, position="hidden").run()  # ui.state draws the sidebar links

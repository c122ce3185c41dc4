"""Run history: every stored run in one place, to compare runs that were never one comparison."""

import streamlit as st

from ui import history
from ui.nav import PAGES
from ui.panels import page_link
from ui.session import store
from ui.state import setup

setup("Run history", "🗂️")
st.title("🗂️ Run history")
st.markdown(
    "Every run trained here, on any page and by anyone, is kept in the run store. This page lays "
    "them all out: filter them, see which knob settings went with a low validation loss, plot any "
    "knob against any metric, and overlay the curves of runs that were never part of the same "
    "comparison. Nothing here trains, so it opens instantly however many runs there are."
)

runs = store().list_runs()
if runs.empty:
    st.info("No runs are stored yet. Run a comparison on any topic page, or the quick what-if on "
            "the home page, and its runs will be listed here.")  # fmt: skip
    page_link(PAGES[0])
    history.admin_login("history")  # the admin may still restore from the trash
else:
    shown = history.filters(runs, "history")
    st.caption(f"{len(shown)} of {len(runs)} stored runs shown")
    if shown.empty:
        st.warning("No stored run matches these filters: clear one of them.")
    else:
        selected = history.table(shown, "history")
        selected = history.picker(shown, "history", selected)  # "Select all" means the runs shown
        history.delete(selected, "history")
        history.overlay(selected, "history")
        history.knob_charts(shown, "history")
history.trash("history")

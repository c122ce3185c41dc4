"""Entry point: page config, navigation over the topic pages, the device badge, and a head start
on TensorFlow's import (5-7 s here) so a visitor's first Run does not wait for it."""

import importlib
import os
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything can import TensorFlow

import streamlit as st

from core.hardware import accelerator
from ui.jobs import start_app_backend
from ui.nav import PAGES
from ui.warm import page_defaults


@st.cache_resource(show_spinner=False)
def preload_training() -> threading.Thread | None:
    """Import the training package (and with it TensorFlow) in a background thread, once per
    server process, as soon as the first visitor arrives; the same entry module as the local
    backend's, so a training that starts meanwhile waits on the import lock instead of importing
    twice. Replays never need it, so WHATIF_PRELOAD_TF=0 turns this off where memory is tighter
    than a visitor's patience; with the worker or Ray backend TensorFlow lives elsewhere."""
    in_process = (
        start_app_backend(page_defaults) == "local"
    )  # the worker or Ray import TensorFlow, not this process
    if not in_process or os.environ.get("WHATIF_PRELOAD_TF", "1") == "0":
        return None
    thread = threading.Thread(
        target=importlib.import_module, args=("core.training.trainer",), name="preload-tf", daemon=True
    )
    thread.start()
    return thread


preload_training()
st.set_page_config(page_title="Hyperparameter what-if explorer", page_icon="🧪", layout="wide")
sections: dict[str, list] = {}
for page in PAGES:
    sections.setdefault(page.section, []).append(
        st.Page(page.path, title=page.title, icon=page.icon, default=page.path == "pages/home.py")
    )
st.sidebar.caption(f"🖥️ {accelerator()}")
st.session_state["badge_drawn"] = True
st.navigation(sections, position="hidden").run()  # ui.state draws the sidebar links

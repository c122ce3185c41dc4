"""Home: what the explorer is, a one-click quick what-if on digits, and the topics."""

import streamlit as st

from core.spec import Experiment
from ui import panels
from ui.builder import Preset
from ui.nav import PAGES
from ui.run import run
from ui.state import setup
from ui.text import public_error

setup("Home")
st.title("🧪 Hyperparameter what-if explorer")
st.markdown(
    "Pick a hyperparameter, give it a few values, and the explorer trains real networks side by "
    "side on real data — several seeds each, all at once — then shows what changed. Every topic "
    "page tests a claim from a set of study notes and says, from the runs in front of you, "
    "whether it held. Runs are stored: a comparison anyone has seen replays instantly."
)

QUICK_KNOBS = {
    "learning_rate": "0.001, 0.01, 0.1, 1",
    "batch_size": "8, 32, 128, 512",
    "width": "8, 32, 128",
    "depth": "1, 3, 6",
    "activation": "relu, tanh, sigmoid",
    "optimizer": "sgd, momentum, adam",
    "dropout": "0, 0.3, 0.6",
    "batch_norm": "none, before, after",
}

st.subheader("Quick what-if on digits")
with st.form("quick"):
    cols = st.columns([1, 2, 1])
    knob = cols[0].selectbox("vary", list(QUICK_KNOBS), key="quick.knob")
    values = cols[1].text_input("values (comma-separated; empty = the usual ones)", key="quick.values")
    cols[2].write("")
    cols[2].form_submit_button("Run", type="primary", icon="▶️")

chosen = [v.strip() for v in (values or QUICK_KNOBS[knob]).split(",") if v.strip()]
try:
    comparison = Preset(Experiment(epochs=10), {knob: tuple(chosen)}, seeds=2).comparison()
except ValueError as err:
    st.error(f"Not run: {public_error(err)}")
else:  # small enough (2-3 s cold) to run on every submit, and it replays from the store
    result = run(comparison, "home")
    if result is not None:
        panels.curves_panel(result, "home")
        panels.summary_table(result)

st.subheader("Topics")
cols = st.columns(3)
for i, page in enumerate(p for p in PAGES if p.path != "pages/home.py"):
    with cols[i % 3]:
        panels.page_link(page)
        st.caption(page.blurb)

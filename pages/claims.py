"""Claims overview: every claim of the notes with its latest verdict, decided from stored runs,
and the robustness map of every claim on every bundled dataset."""

import streamlit as st

from core.claims import CLAIMS, MAP_DATASETS
from core.constants import DATASETS
from ui import claims_overview as topic
from ui import panels
from ui.claims_block import RULE_TEXT
from ui.nav import PAGES
from ui.state import setup

setup("Claims overview", "✅")
st.title("✅ Claims overview")
st.markdown(
    "Every claim of the study notes, in our own words, next to what the runs say about it. A verdict is "
    "never written down: it is computed from a claim's preset runs (8-10 seeds where the outcome is random) "
    "by a statistical test stated before anything ran. "
    + RULE_TEXT
    + " Verdicts below are replayed from the "
    "run store (no training); a claim whose runs are not all stored shows as *not run*. The same claim can "
    "hold on one dataset and not on another: the map below shows where. "
    "Sources: [notes](https://github.com/sandhyaparna/Data-Science/blob/e617d0d1a54293cd157d0ae65477c6a6329625e4/Deep%20Learning/Neural%20Networks.md), "
    "[tuning techniques](https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8); "
    "each topic page links the papers behind its claims."
)

st.subheader("Robustness map")
st.caption(
    f"Every claim on {', '.join(MAP_DATASETS)}: colour is the verdict; hover a cell for the effect, its 90% "
    "interval, the one-sided p-value and the number of seeds."
)
map_cols = st.columns([2, 5])
fill_clicked = map_cols[0].button("Run every claim on every bundled dataset", key="claims.fill_map", icon="🗺️")
map_cols[1].caption(
    "Skips every claim whose runs are stored; the rest train here (minutes per dataset on this CPU) and are "
    "stored for everyone."
)
if fill_clicked:
    topic.fill_map()
grid = topic.map_frame()
st.altair_chart(topic.robustness_map(grid), width="stretch")
changing = topic.dataset_dependent(grid)
if changing:
    st.markdown(
        "Claims whose verdict depends on the dataset:\n\n" + "\n".join(f"- {line}" for line in changing)
    )
else:
    st.caption("No claim has held on one dataset and failed on another among the verdicts stored so far.")

st.subheader("Every claim on one dataset")
cols = st.columns([2, 3, 2, 3])
dataset = cols[0].selectbox("dataset", DATASETS, index=DATASETS.index("digits"), key="claims.dataset")
others = cols[1].multiselect(
    "also show verdicts on", [d for d in DATASETS if d != dataset], key="claims.others"
)
run_clicked = cols[2].button(f"Run all on {dataset}", key="claims.run_all", type="primary", icon="▶️")
cols[3].caption(
    f"Trains every claim without a verdict on {dataset} (stored runs replay; {len(CLAIMS)} claims, "
    "minutes on this CPU) and stores the runs for everyone."
)
status, counts, table = st.container(), st.container(), st.empty()
rows = topic.claims_rows(dataset, others)


def redraw(latest: list[dict[str, str]]) -> None:
    with table.container():
        topic.claims_table(latest, dataset)


if run_clicked:
    with status:
        topic.run_missing(dataset, rows, redraw)
with counts:
    topic.verdict_counts(rows)
redraw(rows)
st.caption(
    "MO1 and MO2 are decided in the optimizer sandbox (a quadratic ravine, no network; MO1 checks a real "
    "network too), so MO2 needs no stored runs. LR4 starts with a short learning-rate range test: its verdict "
    "shows once that test has run since the app started (here or on the Learning rate page). RG3 measures "
    "training speed on this machine, so its runs are timed anew each time and its verdict lasts until the app "
    "restarts."
)

st.subheader("Topic pages")
cols = st.columns(3)
topics = list(dict.fromkeys(c.topic for c in CLAIMS.values()))
for i, page in enumerate(p for p in PAGES if p.path.removeprefix("pages/").removesuffix(".py") in topics):
    with cols[i % 3]:
        panels.page_link(page)
        st.caption(", ".join(c.id for c in CLAIMS.values() if f"pages/{c.topic}.py" == page.path))

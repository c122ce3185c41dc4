"""Wide vs deep: networks with the same number of parameters, spent on width or on depth."""

import streamlit as st

from core.spec import Experiment
from core.topics.gradients import expand
from core.topics.wide_deep import equal_budget, fit_table, pair_changes
from core.variants import VariantSet
from ui import charts, claims_block, panels
from ui.builder import Preset, comparison_builder, loadable
from ui.cache import memoized
from ui.run import auto_expanded
from ui.sections import wide_deep as sections
from ui.sections.abstraction import abstraction_section
from ui.sections.approximation import approximation_section
from ui.sections.inputs import data_of, dataset_facts
from ui.sections.landscape import landscape_toggle
from ui.state import page

page("Wide vs deep", "🏗️")
st.markdown(
    "One hidden layer wide enough can fit any reasonable function, but the notes warn that very wide, "
    "shallow nets are good at memorizing the training points and poorer at generalizing, while depth "
    "builds features level by level. To compare fairly, every network below gets the **same parameter "
    "budget**: the page computes, for each depth, the width whose parameter count matches the wide net's. "
    "The memorization test trains the same kind of pairs on randomly shuffled labels, where nothing can be "
    "learned, only memorized ([Zhang et al. 2017](https://arxiv.org/abs/1611.03530)). "
    "Sources: [notes](https://github.com/sandhyaparna/Data-Science/blob/e617d0d1a54293cd157d0ae65477c6a6329625e4/Deep%20Learning/Neural%20Networks.md), "
    "[tuning techniques](https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8)."
)
fit_table = memoized(fit_table)
# A small 2-D training set that needs a curved boundary: room to overfit or underfit, and
# decision boundaries to look at. Adam gets every shape trained within 30 epochs; two depths by
# default because each shape is its own compiled model (add 2, 8, ... above the table).
PRESET = Preset(
    Experiment(dataset="spiral", n_samples=400, epochs=30, optimizer="adam", learning_rate=0.01), {}, seeds=2
)
comparison, clicked = comparison_builder(
    "wide_deep",
    PRESET,
    knobs=("n_samples", "noise", "epochs", "learning_rate", "optimizer", "activation", "l2"),
)
wide, depths = sections.budget_inputs("wide_deep")
if not loadable(comparison.baseline):  # an offline download, a vanished upload: say so, stop
    st.stop()
facts = dataset_facts(*data_of(comparison.baseline))
pairs = equal_budget(wide, depths, facts["n_features"], facts["n_outputs"])
sections.pairs_table(pairs)
st.caption("Changing the width or the depths shows the new pairs at once; press Run above to train them.")


def default_pairs() -> tuple[VariantSet, list[str]]:
    """The page's default: the preset at the default width and depths (its own data's shape)."""
    preset = PRESET.comparison()
    f0 = dataset_facts(*data_of(preset.baseline))
    budget = equal_budget(sections.WIDE_DEFAULT, sections.DEPTHS_DEFAULT, f0["n_features"], f0["n_outputs"])
    return expand(preset, pair_changes(budget), baseline=None)


result = auto_expanded(
    "wide_deep", clicked, lambda: expand(comparison, pair_changes(pairs), baseline=None), default_pairs
)

if result is not None:
    order, summary = result.variant_order(), result.summary()
    st.subheader("Train vs validation accuracy")
    sections.fit_panel(fit_table(result))
    panels.chart(charts.train_val_curves(result.frame("epochs"), "accuracy", summary, order))
    if facts["is_2d"]:
        st.subheader("Decision boundaries")
        st.caption(
            "P(class 1) over the input plane, mean over seeds; dots are the data (training and validation)."
        )
        panels.chart(charts.decision_boundary(result.frame("boundary"), facts["points"], order, columns=4))
    panels.standard(result, "wide_deep", metric="val_accuracy")
    landscape_toggle(result, "wide_deep.landscape")

st.subheader("Memorization test: random labels")
st.markdown(
    "The same recipe on a copy of the data whose labels are randomly permuted. Nothing links an input to "
    "its label any more, so validation accuracy should stay at chance; whatever the training accuracy "
    "gains is memorization, and how fast each network reaches 100% measures its capacity to memorize. "
    "The spec has no random-label switch: the page registers the shuffled copy as an uploaded CSV "
    "(content-addressed, so every visitor gets the same table and the same stored runs) and trains on it. "
    "2-D toy data with random labels is very slow to memorize, so this test defaults to digits (64 features)."
)
sections.memorization_section("wide_deep", comparison, wide, depths)

approximation_section()

abstraction_section(comparison.baseline.dataset)

claims_block.show("wide_deep", comparison.baseline.dataset)

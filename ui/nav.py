"""The page list, in one place: app.py's navigation and the home page's links both read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    path: str  # relative to the repository root
    title: str
    icon: str
    section: str
    blurb: str


PAGES = (
    PageInfo("pages/home.py", "Home", "🏠", "", "What the explorer does, and a quick what-if"),
    PageInfo("pages/learning_rate.py", "Learning rate", "📈", "Learning rate & optimizers",
             "LR sweeps and the LR range test: converge, oscillate or diverge"),
    PageInfo("pages/optimizers.py", "Optimizers & momentum", "🏃", "Learning rate & optimizers",
             "Momentum in a ravine, optimizers and schedules on a real network"),
    PageInfo("pages/weight_decay.py", "Weight decay", "🪶", "Regularization",
             "How much decay, for how much data, under which LR schedule"),
    PageInfo("pages/regularization.py", "L1, L2 & dropout", "🧲", "Regularization",
             "Overfitting fought three ways; sparse vs dense weights"),
    PageInfo("pages/batch_size.py", "Batch size", "📦", "Regularization",
             "Step size, noise, consistency and generalization vs batch size"),
    PageInfo("pages/batch_norm.py", "Batch normalization", "⚖️", "Normalization & gradients",
             "Before or after the activation; larger LRs; init sensitivity"),
    PageInfo("pages/vanishing.py", "Vanishing gradients", "🫥", "Normalization & gradients",
             "Per-layer gradient norms in deep sigmoid, ReLU and residual nets"),
    PageInfo("pages/exploding.py", "Exploding gradients", "💥", "Normalization & gradients",
             "Blow-ups, their warning signs, and clipping"),
    PageInfo("pages/wide_deep.py", "Wide vs deep", "🏗️", "Architecture",
             "Equal parameter budgets: memorize or generalize"),
    PageInfo("pages/claims.py", "Claims overview", "✅", "Runs",
             "Every claim of the notes with its latest verdict"),
    PageInfo("pages/history.py", "Run history", "🗂️", "Runs",
             "Every stored run: filter, compare, overlay, delete"),
)  # fmt: skip

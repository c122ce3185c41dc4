"""The recurrent section's charts on hand-made frames: the time-step heatmap's ratio to the last
step (geometric mean over seeds, an underflowed 0 kept at the floor) and the baseline line."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui.charts import recurrent


def data_rows(chart) -> list[dict]:
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def timesteps() -> pd.DataFrame:
    """Two seeds of one model, 2 epochs x 3 steps; seed 1's first step underflowed to 0 in epoch 2."""
    rows = []
    for seed, scale in ((0, 1e-2), (1, 1e-4)):
        for epoch in (1, 2):
            for t, g in enumerate((scale, 0.1, 1.0)):
                g = 0.0 if (seed, epoch, t) == (1, 2, 0) else g
                rows.append(
                    {
                        "key": f"k{seed}",
                        "variant": "rnn",
                        "seed": seed,
                        "epoch": epoch,
                        "t": t,
                        "grad_norm": g,
                    }
                )
    return pd.DataFrame(rows)


def test_heatmap_is_the_ratio_to_the_last_step_geometric_over_seeds() -> None:
    chart = recurrent.timestep_heatmap(timesteps(), ["rnn"])
    rows = {(r["t"], r["epoch"]): r for r in data_rows(chart)}
    assert np.isclose(rows[(0, 1)]["ratio"], 1e-3)  # sqrt(1e-2 * 1e-4)
    assert np.isclose(rows[(2, 1)]["ratio"], 1.0)
    assert 0 < rows[(0, 2)]["ratio"] < 1e-15  # the 0 is drawn at the floor, not dropped
    spec = chart.to_dict()
    assert spec["spec"]["encoding"]["color"]["scale"]["type"] == "log"


def test_curves_carry_the_constant_predictor_and_empty_frames_say_so() -> None:
    epochs = pd.DataFrame(
        {"key": "k0", "variant": "lstm", "seed": 0, "epoch": [1, 2], "val_loss": [0.17, 0.01]}
    )
    summary = pd.DataFrame({"key": ["k0"], "variant": ["lstm"], "seed": [0], "baseline_val_loss": [0.16]})
    rule = [r for r in data_rows(recurrent.curves_vs_baseline(epochs, summary, ["lstm"])) if "baseline" in r]
    assert rule == [{"baseline": 0.16, "label": "constant predictor"}]
    assert "no data yet" in str(recurrent.timestep_heatmap(pd.DataFrame()).to_dict())

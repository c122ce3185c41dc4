"""The family sections' charts on hand-made frames: what they aggregate and what they refuse."""

from __future__ import annotations

import pandas as pd

from ui.charts import families


def data_rows(chart) -> list[dict]:
    spec = chart.to_dict()
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def test_probe_accuracy_averages_seeds_per_layer_and_stage() -> None:
    probes = pd.DataFrame(
        {
            "layer": [0, 1, 0, 1] * 2,
            "layer_name": ["input", "dense_1"] * 4,
            "stage": ["untrained", "untrained", "trained", "trained"] * 2,
            "accuracy": [0.9, 0.5, 0.9, 0.8, 0.9, 0.7, 0.9, 1.0],
            "seed": [0] * 4 + [1] * 4,
        }
    )
    rows = {(r["layer"], r["stage"]): r for r in data_rows(families.probe_accuracy(probes)) if "mean" in r}
    assert rows[(1, "untrained")]["mean"] == 0.6 and rows[(1, "trained")]["mean"] == 0.9
    assert rows[(1, "trained")]["lo"] == 0.8 and rows[(1, "trained")]["hi"] == 1.0


def test_empty_frames_say_so_instead_of_drawing_nothing() -> None:
    assert "no data yet" in str(families.probe_accuracy(pd.DataFrame()).to_dict())
    assert "no data yet" in str(families.score_dots(pd.DataFrame(), "final_val_accuracy", "x").to_dict())


def test_phase_curves_shade_exactly_the_greedy_epochs() -> None:
    epochs = pd.DataFrame(
        {"variant": ["a"] * 4, "seed": 0, "epoch": [1, 2, 3, 4], "val_loss": [2.0, 1.5, 1.0, 0.8], "key": "k"}
    )
    shade = [r for r in data_rows(families.phase_curves(epochs, "val_loss", 2, ["a"])) if "start" in r]
    assert shade == [{"start": 0.5, "end": 2.5, "what": "greedy phase"}]

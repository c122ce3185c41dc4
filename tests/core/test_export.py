"""The exported Keras script runs, and it is the run it claims to be.

Every snippet is executed for real (epochs=1, small data), because a script that reads well but
fails when pasted elsewhere is worse than none. TensorFlow takes seconds to import, so all the
snippets run in ONE child process, each exec'd in a fresh namespace; the child reports what it
saw (the last printed line, the optimizer, the layers, the LR per step, the split) and this
process checks it against core, the explorer's own definition of the run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import keras  # noqa: F401  (the snippets run on Keras: a missing Keras must fail, not skip)
import numpy as np
import pytest

from core.constants import TOY_DATASETS
from core.data import DATA_ENV, load_dataset, load_for, make_split, register_csv, split_sizes
from core.export import KERAS_OPTIMIZER, comparison_json, keras_snippet
from core.export_exact import exact_script, exact_unavailable, exact_zip, run_file, run_file_name
from core.spec import Comparison, Experiment
from core.training import draws
from core.training.schedules import schedule
from core.training.trainer import GroupTrainer
from core.weights import weights_of
from tests.core.export_cases import BASE, CASES, EPOCH_LINE, EXACT_CASES, RUNNER, experiment
from tests.core.training.test_keras_parity import RTOL  # the trainer's own Keras parity tolerance


@pytest.fixture(scope="module")
def csv_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Experiment, bytes, str]]:
    """Two registered uploads (a class label and a numeric target), so that export can see
    which task each is; the same bytes become the snippet's your.csv."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=120), rng.normal(size=120)
    cls = "a,b,label\n" + "".join(f"{x:.4f},{y:.4f},{'yes' if x + y > 0 else 'no'}\n" for x, y in zip(a, b))
    reg = "a,b,label\n" + "".join(f"{x:.4f},{y:.4f},{2 * x - y + 0.5:.4f}\n" for x, y in zip(a, b))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(DATA_ENV, str(tmp_path_factory.mktemp("data")))
        runs = {}
        for name, text in (("csv_classes", cls), ("csv_regression", reg)):
            data = text.encode()
            e = dataclasses.replace(BASE, dataset=register_csv(data, "label"), batch_size=16)
            runs[name] = (e, data, keras_snippet(e))
        return runs


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, csv_runs) -> dict:
    """Run every snippet in one child process; returns its report and the snippets' text."""
    root = tmp_path_factory.mktemp("snippets")
    texts = {name: keras_snippet(experiment(name)) for name in CASES}
    paths = []
    for name, text in texts.items():
        (root / f"{name}.py").write_text(text)
        paths.append(str(root / f"{name}.py"))
    for name, (_, data, text) in csv_runs.items():
        folder = root / name  # each CSV snippet reads "your.csv" from its own folder
        folder.mkdir()
        (folder / "your.csv").write_bytes(data)
        path = folder / f"{name}.py"
        path.write_text(text.replace('"your.csv"', repr(str(folder / "your.csv"))))
        paths.append(str(path))
    for name in EXACT_CASES:  # the script and its run file side by side, as the zip unpacks
        texts[name] = exact_script(experiment(name))
        (root / run_file_name(experiment(name))).write_bytes(run_file(experiment(name)))
        (root / f"{name}.py").write_text(texts[name])
        paths.append(str(root / f"{name}.py"))
    (root / "runner.py").write_text(RUNNER)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}
    env["KERAS_HOME"] = str(root / "keras_home")  # keep the child's keras.json out of $HOME
    # One child per core (at most 2): each pays the TensorFlow import once, then the snippets,
    # which mostly spend single-threaded time tracing their train step, run side by side.
    workers = max(1, min(2, os.cpu_count() or 1))
    procs = [
        subprocess.Popen(
            [sys.executable, str(root / "runner.py"), str(root / f"report{w}.json"), *paths[w::workers]],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    codes, stderr, report = [], "", {}
    for w, proc in enumerate(procs):
        try:
            _, err = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        codes.append(proc.returncode)
        stderr += err
        if (root / f"report{w}.json").exists():
            report.update(json.loads((root / f"report{w}.json").read_text()))
    return {"codes": codes, "stderr": stderr, "report": report, "texts": texts}


def record(executed: dict, name: str) -> dict:
    rec = executed["report"].get(name)
    assert rec is not None, f"no report for {name}: {executed['stderr'][-3000:]}"
    assert rec["error"] is None, f"{name} failed:\n{rec['error']}"
    return rec


def expected_trainable(e: Experiment, n_features: int, n_outputs: int) -> int:
    sizes = [n_features] + [e.width] * e.depth + [n_outputs]
    dense = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return dense + (2 * e.width * e.depth if e.batch_norm != "none" else 0)


def check_last_line(rec: dict, regression: bool) -> None:
    last = rec["stdout"].strip().splitlines()[-1]
    pattern = r"val_loss=(\S+)" if regression else r"val_loss=(\S+) val_accuracy=(\S+)"
    match = re.fullmatch(pattern, last)
    assert match, f"unexpected last line {last!r}"
    assert all(math.isfinite(float(v)) for v in match.groups())


def check_optimizer(e: Experiment, text: str, rec: dict) -> None:
    cls = KERAS_OPTIMIZER[e.optimizer]
    assert f"keras.optimizers.{cls}(" in text
    assert rec["optimizer"] == cls
    cfg, r = rec["config"], e.resolved()
    if e.optimizer in ("sgd", "momentum", "nesterov"):
        assert cfg["momentum"] == pytest.approx(r.momentum)
        assert cfg["nesterov"] is (e.optimizer == "nesterov")
    elif e.optimizer == "rmsprop":
        assert (cfg["rho"], cfg["epsilon"]) == (0.9, 1e-7)
    else:
        assert (cfg["beta_1"], cfg["beta_2"], cfg["epsilon"]) == (pytest.approx(e.momentum), 0.999, 1e-7)
    assert cfg["clipnorm"] == (e.clipnorm or None)
    assert cfg["clipvalue"] == (e.clipvalue or None)
    if e.weight_decay > 0 or e.optimizer == "adamw":
        assert cfg["weight_decay"] == pytest.approx(e.weight_decay)
    else:
        assert cfg["weight_decay"] is None
    decays = 'optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])' in text
    assert decays is (e.weight_decay > 0)


def check_schedule(e: Experiment, rec: dict) -> None:
    """The snippet's LR per step is core.training.schedules' table (for Keras' number of steps)."""
    spe = rec["steps_per_epoch"]
    total = e.epochs * spe
    want = schedule(e, spe)[0]
    got = np.array(rec["lr"])
    np.testing.assert_allclose(got[:total], want, rtol=2e-5, atol=1e-6 * e.learning_rate)
    if e.lr_schedule == "cyclic":  # the cycle goes on past one epoch: check three cycles' worth
        longer = schedule(dataclasses.replace(e, epochs=3 * e.epochs), spe)[0]
        np.testing.assert_allclose(got, longer, rtol=2e-5, atol=1e-6 * e.learning_rate)


def check_structure(e: Experiment, rec: dict, n_features: int, n_outputs: int) -> None:
    assert rec["trainable"] == expected_trainable(e, n_features, n_outputs)
    kinds = rec["layers"]
    assert kinds.count("Dense") == e.depth + 1
    assert kinds.count("BatchNormalization") == (e.depth if e.batch_norm != "none" else 0)
    assert kinds.count("Dropout") == (e.depth if e.dropout > 0 else 0)
    assert kinds.count("Add") == (e.depth - 1 if e.resolved().residual else 0)
    assert rec["n_penalties"] == (e.depth + 1 if e.l1 > 0 or e.l2 > 0 else 0)


def check_data(e: Experiment, rec: dict) -> None:
    """Same pool, same split sizes, same training rows (their mean) as core.data."""
    ds = load_dataset(e.dataset, e.n_samples, e.noise)
    split = make_split(ds, e.n_samples, e.val_fraction, e.effective_split_seed)
    assert (rec["n_train"], rec["n_val"]) == split_sizes(ds, e.n_samples, e.val_fraction)
    np.testing.assert_allclose(rec["mean"], split.mean, rtol=1e-5, atol=1e-5)
    if e.dataset in TOY_DATASETS:  # the inlined generators are core's, draw for draw
        assert rec["x_sha"] == hashlib.sha256(np.ascontiguousarray(ds.x, np.float32).tobytes()).hexdigest()
        assert rec["y_sha"] == hashlib.sha256(ds.y.astype(np.float64).tobytes()).hexdigest()


def test_child_processes_exit_code(executed):
    failed = [n for n, r in executed["report"].items() if r["error"]]
    assert set(executed["codes"]) == {0}, f"failed: {failed}\n{executed['stderr'][-3000:]}"
    slowest = sorted(executed["report"].items(), key=lambda kv: -kv[1]["seconds"])[:3]
    print("slowest snippets:", ", ".join(f"{n} {r['seconds']:.1f}s" for n, r in slowest))


@pytest.mark.parametrize("name", list(CASES))
def test_snippet_runs_and_is_the_run(executed, name):
    e = experiment(name)
    text, rec = executed["texts"][name], record(executed, name)
    check_last_line(rec, regression=False)
    check_optimizer(e, text, rec)
    check_schedule(e, rec)
    ds = load_dataset(e.dataset, e.n_samples, e.noise)
    check_structure(e, rec, ds.n_features, ds.n_classes)
    check_data(e, rec)
    assert "from core" not in text and "import core" not in text  # copied elsewhere, it must stand alone
    assert ("keras.Model(inputs, outputs)" in text) is e.resolved().residual
    assert ("keras.Sequential(" in text) is not e.resolved().residual


@pytest.mark.parametrize("name", ["csv_classes", "csv_regression"])
def test_csv_snippet_runs(executed, csv_runs, name):
    e, _, text = csv_runs[name]
    rec = record(executed, name)
    regression = name == "csv_regression"
    check_last_line(rec, regression)
    check_optimizer(e, text, rec)
    check_structure(e, rec, n_features=2, n_outputs=1 if regression else 2)
    assert 'pd.read_csv("your.csv")' in text and 'LABEL_COLUMN = "label"' in text
    assert ('loss="mse"' in text) is regression
    assert ("stratify=y" in text) is not regression


def test_only_needed_lines_are_emitted():
    plain = keras_snippet(BASE)
    code = plain.split("\n\n", 1)[1]  # past the header, which names every knob
    absent = ("clipnorm", "clipvalue", "regularizer", "BatchNormalization", "Dropout", "weight_decay")
    absent += ("kernel_initializer", "import math", "schedules", "Add()")
    for name in absent:
        assert name not in code, name
    assert "optimizer = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)" in plain
    assert "keras.utils.set_random_seed(seed)" in plain
    # the header names every knob, so the script says which run it is
    header = plain.split("\n\n")[0]
    assert all(f"{k}=" in header for k in BASE.to_dict())
    one_cycle = keras_snippet(dataclasses.replace(BASE, lr_schedule="one_cycle"))
    assert "cycles momentum 0.95 -> 0.85 -> 0.95" in one_cycle  # the honest note about momentum
    assert "cycles" not in keras_snippet(dataclasses.replace(BASE, lr_schedule="one_cycle", optimizer="sgd"))
    assert "RandomNormal(stddev=0.01)" in keras_snippet(dataclasses.replace(BASE, init="normal_small"))
    assert "RandomNormal(stddev=1.0)" in keras_snippet(dataclasses.replace(BASE, init="normal_large"))


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist", "csv:0123456789ab"])
def test_offline_snippets_compile(dataset):
    """Downloads and missing uploads are not run here, but the text must be valid Python."""
    e = dataclasses.replace(BASE, dataset=dataset, residual=True, lr_schedule="cyclic", l2=1e-4)
    text = keras_snippet(e)
    compile(text, dataset, "exec")
    if dataset.startswith("csv:"):
        assert "this assumes classification" in text  # the upload is unknown here: say so
    else:
        assert f"keras.datasets.{dataset}.load_data()" in text
        assert "train_size=n_samples" in text  # 70,000 images are subsampled like the explorer


def test_snippets_are_ruff_clean(tmp_path):
    """What the user pastes should already pass a formatter and a linter."""
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff not installed")
    for name in (
        "defaults",
        "adamw_one_cycle_residual",
        "sgd_circles_leaky",
        "cyclic",
        "step",
        "spiral",
        "xor",
    ):
        (tmp_path / f"{name}.py").write_text(keras_snippet(experiment(name)))
    (tmp_path / "mnist.py").write_text(keras_snippet(dataclasses.replace(BASE, dataset="mnist", l1=1e-5)))
    for name in EXACT_CASES:
        (tmp_path / f"{name}.py").write_text(exact_script(experiment(name)))
    exact_mnist = dataclasses.replace(
        BASE, dataset="mnist", dropout=0.2, lr_schedule="one_cycle", label_noise=0.1
    )
    (tmp_path / "exact_mnist.py").write_text(exact_script(exact_mnist))
    args = ["--isolated", "--line-length", "100"]
    fmt = subprocess.run(
        [ruff, "format", *args, "--check", "--diff", tmp_path], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    lint = subprocess.run(
        [ruff, "check", *args, "--select", "E,F,W,I,B,UP,SIM", tmp_path], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_comparison_json_round_trips():
    c = Comparison.of(BASE, {"learning_rate": [0.01, 0.1], "optimizer": ["sgd", "adam"]}, seeds=2)
    text = comparison_json(c)
    assert text.startswith("{\n  ")  # indented for people
    assert Comparison.from_dict(json.loads(text)) == c


# -- the exact export ------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(EXACT_CASES))
def test_exact_script_replays_the_run(executed, name):
    """The exported script's per-epoch losses are the trainer's, within its Keras parity tolerance."""
    e = experiment(name)
    ds = load_for(e)
    split = make_split(ds, e.n_samples, e.val_fraction, e.effective_split_seed)
    assert len(split.train_idx) % e.batch_size, "the case must drop a partial batch"
    printed = np.array(
        [[float(v) for v in m.groups()] for m in EPOCH_LINE.finditer(record(executed, name)["stdout"])]
    )
    run = GroupTrainer([e], ds).run()[0]
    # the run file's initial weights are the ones the store keeps for this run, bit for bit
    stored, replay = weights_of(run), np.load(io.BytesIO(run_file(e)))
    for i, kernel in enumerate(stored.of_kind("kernel", "initial")):
        np.testing.assert_array_equal(replay[f"kernel_{i}"], kernel)
    ours = run.frames["epochs"][["epoch", "train_loss", "val_loss", "val_accuracy"]].to_numpy()
    assert printed.shape == ours.shape == (e.epochs, 4)
    print(
        f"{name}: max |script - trainer| loss per epoch", np.abs(printed[:, 1:3] - ours[:, 1:3]).max(axis=1)
    )
    np.testing.assert_array_equal(printed[:, 0], ours[:, 0])
    np.testing.assert_allclose(printed[:, 1:3], ours[:, 1:3], rtol=RTOL)
    # accuracy: the same predictions, but for an example whose logits tie to float32 rounding
    np.testing.assert_allclose(printed[:, 3], ours[:, 3], atol=1.0 / len(split.val_idx) + 1e-4)


def test_exact_zip_holds_the_script_and_the_run_file():
    e = experiment("exact_moons_residual")
    z = zipfile.ZipFile(io.BytesIO(exact_zip(e)))
    stem = run_file_name(e).removesuffix(".npz")
    assert sorted(z.namelist()) == [f"{stem}.npz", f"{stem}.py"]
    script = z.read(f"{stem}.py").decode()
    assert f'RUN_FILE = "{run_file_name(e)}"' in script and f"ORDER_SALT = {draws.ORDER_SALT}" in script
    run = np.load(io.BytesIO(z.read(f"{stem}.npz")))
    ds = load_for(e)
    split = make_split(ds, e.n_samples, e.val_fraction, e.effective_split_seed)
    np.testing.assert_array_equal(run["train_idx"], split.train_idx)
    np.testing.assert_array_equal(run["val_idx"], split.val_idx)
    sizes = [ds.n_features] + [e.width] * e.depth + [ds.n_classes]
    assert [run[f"kernel_{i}"].shape for i in range(e.depth + 1)] == list(zip(sizes[:-1], sizes[1:]))
    wrong = (run["train_labels"] != ds.y[split.train_idx]).mean()
    assert wrong == pytest.approx(e.label_noise, abs=1 / len(split.train_idx))  # the run's noisy labels


def test_exact_header_is_honest():
    header = exact_script(BASE).split("\n\n")[0]
    assert "partial batch" in header and "len(train_idx) % batch_size" in header
    assert "Not reproduced" not in header
    dropout = exact_script(dataclasses.replace(BASE, dropout=0.3))
    assert "RunDropout(dropout, i)" in dropout and "Not reproduced" not in dropout
    assert "layers.Dropout(" not in dropout  # Keras' own masks would not be the run's
    assert "momentum cycle" in exact_script(dataclasses.replace(BASE, lr_schedule="one_cycle"))
    for changes, why in (
        ({"ensemble": 3}, "ensemble family"),
        ({"dataset": "csv:0123456789ab"}, "upload"),
        ({"scaling": "robust"}, "mean and std only"),
    ):
        e = dataclasses.replace(BASE, **changes)
        assert why in exact_unavailable(e)
        with pytest.raises(ValueError, match="no exact export"):
            exact_script(e)


def test_exact_export_does_not_load_tensorflow():
    """The Streamlit server builds the download; it must never import TensorFlow."""
    code = (
        "import sys; from core.export_exact import exact_zip; from core.spec import Experiment; "
        "exact_zip(Experiment(n_samples=300, epochs=1)); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], check=True, timeout=120)


def test_the_plain_script_refuses_runs_it_would_misdescribe() -> None:
    """A script of a different run is worse than none: families, worlds without a generator and
    input transforms are refused with the reason (the panel shows it instead of a script)."""
    from core.export import keras_snippet, plain_unavailable

    for e, why in (
        (Experiment(ensemble=3), "ensemble"),
        (Experiment(dataset="bumps"), "bumps"),
        (Experiment(dataset="adding", model="lstm"), "recurrent"),
        (Experiment(scaling="quantile"), "scaling"),
    ):
        assert why in plain_unavailable(e)
        with pytest.raises(ValueError, match=why):
            keras_snippet(e)
    assert plain_unavailable(Experiment()) is None

"""core.data: the datasets, the member split, the Keras download cache and CSV uploads.

Everything here runs offline and without importing TensorFlow; the network is never touched
(the download probe is replaced by a failing stub), so the file runs in a few seconds.
"""

from __future__ import annotations

import gzip
import re
import struct
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from core import data
from core.constants import CSV_PREFIX, TOY_DATASETS
from core.data import (
    MAX_CSV_BYTES,
    Dataset,
    DataUnavailable,
    cache_dir,
    csv_columns,
    data_dir,
    load_dataset,
    make_split,
    noisy_labels,
    register_csv,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the real ~/.keras or <repo>/data from a test."""
    monkeypatch.setenv("WHATIF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WHATIF_KERAS_CACHE", str(tmp_path / "keras"))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every download attempt fail at once, as on an offline machine (and never hang)."""
    urls: list[str] = []

    def refuse(request, *args, **kwargs):
        urls.append(getattr(request, "full_url", str(request)))
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(data.downloaded.urllib.request, "urlopen", refuse)
    return urls


def test_import_does_not_pull_in_tensorflow() -> None:
    code = "import sys, core.data; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_dirs_follow_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert data_dir() == tmp_path / "data"
    assert cache_dir() == tmp_path / "keras"
    monkeypatch.delenv("WHATIF_DATA_DIR")
    monkeypatch.delenv("WHATIF_KERAS_CACHE")
    monkeypatch.delenv("KERAS_HOME", raising=False)
    assert data_dir() == REPO / "data"
    assert cache_dir() == Path.home() / ".keras" / "datasets"


# -- toy worlds ------------------------------------------------------------------------------
REGRESSION_TOYS = ("bumps",)  # 2-D regression worlds: a float target, no classes
CLASS_TOYS = tuple(name for name in TOY_DATASETS if name not in REGRESSION_TOYS)


@pytest.mark.parametrize("name", TOY_DATASETS)
def test_toy_shape_classes_and_determinism(name: str) -> None:
    ds = load_dataset(name, n_samples=301, noise=0.2)
    assert ds.x.shape == (301, 2) and ds.x.dtype == np.float32 and ds.y.shape == (301,)
    assert ds.is_2d and ds.n_features == 2 and len(ds.feature_names) == 2
    assert not ds.x.flags.writeable  # the memoized copy is shared: nobody may edit it
    if name in REGRESSION_TOYS:
        assert ds.is_regression and ds.y.dtype == np.float32 and ds.class_names == ()
        assert np.isfinite(ds.y).all() and ds.y.std() > 0.5  # a target with something to fit
    else:
        k = 3 if name == "gaussians" else 2
        assert ds.y.dtype == np.int32 and not ds.is_regression
        assert ds.n_classes == k and len(ds.class_names) == k
        assert sorted(np.unique(ds.y)) == list(range(k))
        assert np.bincount(ds.y).min() >= 301 // k - 1  # balanced

    data.toy.load_toy.cache_clear()  # regenerate for real: the world must not depend on anything else
    again = load_dataset(name, n_samples=301, noise=0.2)
    assert again is not ds
    np.testing.assert_array_equal(again.x, ds.x)
    np.testing.assert_array_equal(again.y, ds.y)


@pytest.mark.parametrize("name", CLASS_TOYS)
def test_toy_noise_is_coordinate_jitter(name: str) -> None:
    clean = load_dataset(name, n_samples=400, noise=0.0)
    small = load_dataset(name, n_samples=400, noise=0.1)
    large = load_dataset(name, n_samples=400, noise=0.4)
    np.testing.assert_array_equal(small.y, clean.y)  # noise moves points, not labels
    jitter_small = np.std(small.x - clean.x)
    jitter_large = np.std(large.x - clean.x)
    assert 0 < jitter_small < jitter_large
    assert jitter_large == pytest.approx(4 * jitter_small, rel=0.05)  # std scales with noise


def test_bumps_noise_is_target_noise_around_a_fixed_smooth_surface() -> None:
    clean = load_dataset("bumps", n_samples=400, noise=0.0)
    noisy = load_dataset("bumps", n_samples=400, noise=0.3)
    np.testing.assert_array_equal(noisy.x, clean.x)  # noise moves targets, not points
    np.testing.assert_allclose(clean.y, data.toy.bumps_target(clean.x), rtol=1e-5, atol=1e-6)
    assert np.std(noisy.y - clean.y) == pytest.approx(0.3, rel=0.15)
    g = np.linspace(-data.toy.BUMPS_RANGE, data.toy.BUMPS_RANGE, 101)
    surface = data.toy.bumps_target(np.stack(np.meshgrid(g, g), -1))
    assert abs(surface.mean()) < 0.05 and surface.std() == pytest.approx(1.0, rel=0.05)  # scaled to SD 1
    assert surface.max() > 1 and surface.min() < -1  # hills and valleys, not a plane
    step = g[1] - g[0]
    assert np.abs(np.diff(surface, axis=0)).max() < 10 * step  # smooth: no jumps between neighbours


def test_moons_without_noise_lie_on_unit_half_circles() -> None:
    ds = load_dataset("moons", n_samples=200, noise=0.0)
    upper = ds.x[ds.y == 0]
    lower = ds.x[ds.y == 1] - np.array([1.0, 0.5], dtype=np.float32)
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.hypot(*lower.T), 1.0, atol=1e-5)


def test_xor_labels_are_sign_products_without_noise() -> None:
    ds = load_dataset("xor", n_samples=200, noise=0.0)
    np.testing.assert_array_equal(ds.y, (ds.x[:, 0] * ds.x[:, 1] < 0).astype(np.int32))


@pytest.mark.parametrize("bad", [{"n_samples": 1}, {"noise": -0.1}, {"noise": float("nan")}])
def test_toy_refuses_bad_arguments(bad: dict) -> None:
    with pytest.raises(ValueError):
        load_dataset("moons", **bad)


# -- bundled real data -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "shape", "k"),
    [("digits", (1797, 64), 10), ("breast_cancer", (569, 30), 2), ("wine", (178, 13), 3)],
)
def test_bundled_shapes(name: str, shape: tuple[int, int], k: int) -> None:
    ds = load_dataset(name, n_samples=100)  # the whole pool: n_samples applies in make_split
    assert ds.x.shape == shape and ds.x.dtype == np.float32
    assert ds.y.dtype == np.int32 and ds.n_classes == k and len(ds.class_names) == k
    assert len(ds.feature_names) == shape[1]
    assert not ds.is_2d and not ds.is_regression


def test_unknown_dataset_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'iris'.*moons.*digits.*mnist"):
        load_dataset("iris")


# -- the member split ------------------------------------------------------------------------
def test_split_is_deterministic_and_disjoint() -> None:
    ds = load_dataset("digits")
    a = make_split(ds, 2000, 0.2, seed=3)
    b = make_split(ds, 2000, 0.2, seed=3)
    np.testing.assert_array_equal(a.train_idx, b.train_idx)
    np.testing.assert_array_equal(a.val_idx, b.val_idx)
    assert a.train_idx.dtype == np.int32 and a.val_idx.dtype == np.int32
    assert not set(a.train_idx) & set(a.val_idx)
    assert len(a.train_idx) + len(a.val_idx) == len(ds)  # n_samples > N: the whole pool
    assert len(a.val_idx) == round(0.2 * len(ds))


@pytest.mark.parametrize(
    ("name", "n_samples", "frac"), [("digits", 500, 0.2), ("wine", 50, 0.3), ("moons", 97, 0.1)]
)
def test_split_sizes_do_not_depend_on_seed(name: str, n_samples: int, frac: float) -> None:
    ds = load_dataset(name, n_samples=97) if name == "moons" else load_dataset(name)
    splits = [make_split(ds, n_samples, frac, seed) for seed in range(8)]
    assert len({(len(s.train_idx), len(s.val_idx)) for s in splits}) == 1
    assert len({tuple(s.val_idx) for s in splits}) == 8  # but the rows do change
    assert len(splits[0].train_idx) + len(splits[0].val_idx) == min(n_samples, len(ds))


def test_split_subsamples_and_stratifies() -> None:
    ds = load_dataset("breast_cancer")  # 212 / 357: unbalanced, so stratification shows
    split = make_split(ds, 300, 0.25, seed=1)
    assert len(split.train_idx) + len(split.val_idx) == 300
    assert len(split.val_idx) == 75
    overall = np.mean(ds.y)
    assert np.mean(ds.y[split.val_idx]) == pytest.approx(overall, abs=0.02)
    assert np.mean(ds.y[split.train_idx]) == pytest.approx(overall, abs=0.02)
    wine = load_dataset("wine")
    counts = np.bincount(wine.y[make_split(wine, 178, 0.2, seed=0).val_idx], minlength=3)
    assert counts.min() >= 1 and sum(counts) == 36


def test_split_standardization_uses_train_rows_only() -> None:
    ds = load_dataset("digits")
    split = make_split(ds, 600, 0.3, seed=2)
    train = ds.x[split.train_idx].astype(np.float64)
    std = train.std(axis=0)
    assert split.mean.dtype == np.float32 and split.std.dtype == np.float32
    np.testing.assert_allclose(split.mean, train.mean(axis=0), rtol=1e-6)
    assert (std == 0).any()  # pixel 0 of digits is always blank
    np.testing.assert_allclose(split.std, np.where(std == 0, 1.0, std), rtol=1e-6)
    everything = ds.x[np.concatenate([split.train_idx, split.val_idx])].mean(axis=0)
    assert not np.allclose(split.mean, everything)


def test_split_falls_back_when_stratification_is_impossible() -> None:
    tiny = Dataset(
        name="tiny",
        x=np.arange(10, dtype=np.float32).reshape(5, 2),
        y=np.array([0, 0, 0, 0, 1], dtype=np.int32),  # class 1 has a single row
        n_classes=2,
        feature_names=("a", "b"),
        class_names=("a", "b"),
    )
    for seed in range(4):
        split = make_split(tiny, 5, 0.2, seed)
        assert (len(split.train_idx), len(split.val_idx)) == (3, 2)  # >= 1 val row per class
        assert sorted([*split.train_idx, *split.val_idx]) == [0, 1, 2, 3, 4]


# -- downloaded data through the Keras cache -------------------------------------------------
def _write_idx(path: Path, array: np.ndarray) -> None:
    """IDX format as distributed by Fashion-MNIST: big-endian magic + dims, then uint8 data."""
    magic = 0x800 + array.ndim
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_offline_names_the_path_then_reads_the_cached_file(tmp_path: Path, offline: list[str]) -> None:
    target = tmp_path / "keras" / "mnist.npz"
    with pytest.raises(DataUnavailable) as err:
        load_dataset("mnist")
    message = str(err.value)
    assert "mnist" in message and "could not be downloaded" in message
    assert str(target) in message
    assert offline and offline[0].endswith("mnist.npz")  # one probe, no keras download attempt

    rng = np.random.default_rng(0)
    target.parent.mkdir(parents=True)
    np.savez(
        target,
        x_train=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        y_train=np.arange(20, dtype=np.uint8) % 10,
        x_test=np.full((5, 28, 28), 255, dtype=np.uint8),
        y_test=np.arange(5, dtype=np.uint8),
    )
    ds = load_dataset("mnist")
    assert ds.x.shape == (25, 784) and ds.x.dtype == np.float32
    assert ds.x.min() >= 0.0 and ds.x.max() == 1.0 and ds.x[20:].min() == 1.0
    assert ds.y.dtype == np.int32 and ds.n_classes == 10 and ds.class_names[3] == "3"
    assert load_dataset("mnist") is ds  # memoized
    assert len(offline) == 1


def test_mnist_corrupt_cache_file_is_explained(tmp_path: Path, offline: list[str]) -> None:
    target = tmp_path / "keras" / "mnist.npz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"half a download")
    with pytest.raises(DataUnavailable, match="could not be read") as err:
        load_dataset("mnist")
    assert str(target) in str(err.value)


def test_fashion_mnist_offline_then_cached_gz_files(tmp_path: Path, offline: list[str]) -> None:
    folder = tmp_path / "keras" / "fashion-mnist"
    with pytest.raises(DataUnavailable) as err:
        load_dataset("fashion_mnist")
    assert str(folder) in str(err.value) and "t10k-images-idx3-ubyte.gz" in str(err.value)

    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    _write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(12) % 10)
    _write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (12, 28, 28)))
    _write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.array([9, 8, 7]))
    with pytest.raises(DataUnavailable) as err:  # one file still missing: name exactly it
        load_dataset("fashion_mnist")
    assert str(folder / "t10k-images-idx3-ubyte.gz") in str(err.value)

    _write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28)))
    ds = load_dataset("fashion_mnist")
    assert ds.x.shape == (15, 784) and ds.x.dtype == np.float32
    assert ds.x.min() >= 0.0 and ds.x.max() <= 1.0 and ds.x[12:].max() == 0.0
    np.testing.assert_array_equal(ds.y, [*(np.arange(12) % 10), 9, 8, 7])
    assert ds.n_classes == 10 and ds.class_names[9] == "Ankle boot"


# -- CSV uploads -----------------------------------------------------------------------------
CSV_CLASSES = b"a,b,kind\n1,2.5,cat\n2,3.5,dog\n3,1.5,cat\n4,0.5,dog\n5,2.0,bird\n6,1.0,bird\n"


def test_csv_classification_round_trip(tmp_path: Path) -> None:
    assert csv_columns(CSV_CLASSES) == ["a", "b", "kind"]
    name = register_csv(CSV_CLASSES, "kind")
    assert re.fullmatch(r"csv:[0-9a-f]{12}", name) and name.startswith(CSV_PREFIX)
    assert (tmp_path / "data" / "uploads" / f"{name[4:]}.npz").is_file()
    assert register_csv(CSV_CLASSES, "kind") == name  # content-addressed
    assert register_csv(CSV_CLASSES + b"7,0.0,cat\n", "kind") != name
    numeric = b"p,q\n1,2\n2,1\n1,2\n2,1\n"
    assert register_csv(numeric, "p") != register_csv(numeric, "q")  # the label is part of the name

    data.upload.load_upload.cache_clear()  # as a fresh process would
    ds = load_dataset(name)
    assert ds.name == name and ds.x.shape == (6, 2) and ds.x.dtype == np.float32
    assert ds.feature_names == ("a", "b")
    assert ds.class_names == ("bird", "cat", "dog") and ds.n_classes == 3
    np.testing.assert_array_equal(ds.y, [1, 2, 1, 2, 0, 0])
    assert ds.y.dtype == np.int32 and not ds.is_2d
    split = make_split(ds, 100, 0.5, seed=0)
    assert len(split.val_idx) == 3 and set(ds.y[split.val_idx]) == {0, 1, 2}


def test_csv_integer_labels_are_classes_sorted_numerically() -> None:
    ds = load_dataset(register_csv(b"x,y\n0.1,10\n0.2,2\n0.3,10\n0.4,2.0\n", "y"))
    assert ds.class_names == ("2", "10")
    np.testing.assert_array_equal(ds.y, [1, 0, 1, 0])


def test_csv_regression() -> None:
    ds = load_dataset(register_csv(b"x,z,price\n1,0,1.5\n2,1,2.25\n3,0,3\n", "price"))
    assert ds.is_regression and ds.n_classes == 0 and ds.class_names == ()
    assert ds.y.dtype == np.float32
    np.testing.assert_allclose(ds.y, [1.5, 2.25, 3.0])
    split = make_split(ds, 3, 0.3, seed=0)
    assert (len(split.train_idx), len(split.val_idx)) == (2, 1)


@pytest.mark.parametrize(
    ("csv", "label", "pattern"),
    [
        (b"", "y", r"could not be read as CSV"),
        (b'a,b\n1,"2\n', "b", r"could not be read as CSV"),
        (CSV_CLASSES, "species", r"'species' is not in the CSV.*'a', 'b', 'kind'"),
        (b"a,town,y\n1,Oslo,0\n2,Rome,1\n", "y", r"non-numeric feature column\(s\) 'town'"),
        (b"a,b,y\n1,,0\n2,3,1\n3,4,\n", "y", r"missing values in column\(s\) 'b', 'y'"),
        (b"a,y\n1,0\n", "y", r"1 data row\(s\); at least 2"),
        (b"a,y\n1,0\n2,0\n3,0\n", "y", r"single class \('0'\)"),
        (b"a,y\n1,cat\n2,cat\n3,dog\n", "y", r"class\(es\) 'dog' of label column 'y' have a single row"),
        (b"y\n1\n2\n", "y", r"no feature columns"),
        (b"a,y\n1,inf\n2,3\n", "y", r"infinite"),
    ],
)
def test_csv_refusals_name_the_problem(csv: bytes, label: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        register_csv(csv, label)


def test_csv_refuses_more_than_100_classes() -> None:
    rows = "".join(f"{i},{i // 2}\n" for i in range(202))  # 101 classes of 2 rows
    with pytest.raises(ValueError, match=r"101 classes; at most 100"):
        register_csv(("a,y\n" + rows).encode(), "y")


def test_csv_size_cap() -> None:
    big = b"a,y\n" + b"1,0\n" * (MAX_CSV_BYTES // 4 + 1)
    with pytest.raises(ValueError, match=r"limit is 25 MB"):
        register_csv(big, "y")
    with pytest.raises(ValueError, match=r"limit is 25 MB"):
        csv_columns(big)


@pytest.mark.parametrize("name", ["csv:0123456789ab", "csv:../../etc/passwd", "csv:"])
def test_unknown_upload_asks_to_upload_again(name: str) -> None:
    with pytest.raises(DataUnavailable, match="upload the CSV again"):
        load_dataset(name)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_label_noise_changes_that_share_of_training_labels_only(fraction: float) -> None:
    ds = load_dataset("digits")
    split = make_split(ds, 600, 0.3, seed=0)
    y = noisy_labels(ds, split, fraction, seed=0)
    wrong = y[split.train_idx] != ds.y[split.train_idx]
    assert wrong.sum() == round(fraction * len(split.train_idx))  # a replaced label is always wrong
    np.testing.assert_array_equal(y[split.val_idx], ds.y[split.val_idx])  # validation untouched
    assert set(np.unique(y)) <= set(range(ds.n_classes))
    np.testing.assert_array_equal(y, noisy_labels(ds, split, fraction, seed=0))  # from the seed alone
    assert (y != noisy_labels(ds, split, fraction, seed=1)).any()


def test_label_noise_off_and_regression_targets() -> None:
    ds = load_dataset("digits")
    split = make_split(ds, 300, 0.2, seed=0)
    np.testing.assert_array_equal(noisy_labels(ds, split, 0.0, seed=0), ds.y)
    rng = np.random.default_rng(0)
    reg = Dataset(
        "r",
        rng.normal(size=(50, 2)).astype(np.float32),
        rng.normal(size=50).astype(np.float32),
        0,
        ("a", "b"),
        (),
    )
    rsplit = make_split(reg, 50, 0.2, seed=0)
    y = noisy_labels(reg, rsplit, 0.5, seed=0)
    assert set(y[rsplit.train_idx]) <= set(
        reg.y[rsplit.train_idx]
    )  # a replaced target is another training target
    np.testing.assert_array_equal(y[rsplit.val_idx], reg.y[rsplit.val_idx])


def test_split_seed_is_what_the_split_is_drawn_from() -> None:
    """The trainer draws the split from Experiment.effective_split_seed: two seeds, one split."""
    from core.spec import Experiment

    ds = load_dataset("digits")
    a, b = (Experiment(seed=s, split_seed=5, n_samples=400) for s in (1, 2))
    sa, sb = (make_split(ds, e.n_samples, e.val_fraction, e.effective_split_seed) for e in (a, b))
    np.testing.assert_array_equal(sa.val_idx, sb.val_idx)
    own = make_split(ds, 400, 0.2, Experiment(seed=1, n_samples=400).effective_split_seed)
    assert not np.array_equal(own.val_idx, sa.val_idx)

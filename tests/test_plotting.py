"""viral_sklearn.plotting: what each plot draws, its validation, matplotlib optional."""

from __future__ import annotations

import importlib
import sys

import pytest

import matplotlib  # noqa: E402  (a dev dependency: its absence must fail, not skip)
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from sklearn.metrics import auc, average_precision_score, confusion_matrix, roc_curve  # noqa: E402
from skorch.history import History  # noqa: E402

from viral_sklearn import plotting  # noqa: E402
from viral_sklearn.plotting import (  # noqa: E402
    plot_chorus,
    plot_confusion_matrix,
    plot_history,
    plot_mel,
    plot_precision_recall,
    plot_roc,
)

SR = 8000


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    """The functions never go through pyplot: no figure is left open."""
    plt.close("all")
    yield
    assert plt.get_fignums() == []


def x_extent(patch) -> tuple[float, float]:
    """Data x-range of an axvspan patch (a Rectangle or a Polygon, by version)."""
    xs = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
    return float(xs.min()), float(xs.max())


def by_gid(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def save_png(ax, tmp_path, name):
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def song(seconds=30.0, sr=SR, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * t / 10))
    return (y + 0.01 * rng.randn(t.size)).astype(np.float32)


def make_history():
    h = History()
    rows = [(0.70, 0.69, 0.50), (0.60, 0.65, 0.60), (0.50, 0.62, 0.70), (0.45, 0.63, 0.75)]
    for train, valid, acc in rows:
        h.new_epoch()
        h.record("epoch", len(h))
        h.record("train_loss", train)
        h.record("valid_loss", valid)
        h.record("valid_acc", acc)
    return h, np.array(rows)


def binary_scores(n=60, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 2
    score = y * 0.6 + rng.rand(n)
    return y, score


# -- plot_chorus ---------------------------------------------------------------------
def test_chorus_window_true_choruses_and_xlim(tmp_path):
    y = song(30.0)
    truths = [(4.0, 9.5), (18.0, 23.0)]
    ax = plot_chorus(y, SR, chorus_start=17.5, clip_length=5.0, true_choruses=truths, title="a song")
    assert isinstance(ax, Axes)
    (detected,) = by_gid(ax, "detected-chorus")
    assert x_extent(detected) == pytest.approx((17.5, 22.5))
    (outline,) = by_gid(ax, "detected-chorus-outline")  # drawn over the waveform, the band behind it
    assert x_extent(outline) == pytest.approx((17.5, 22.5)) and outline.zorder > detected.zorder
    assert detected.get_label() == "detected chorus"
    marks = by_gid(ax, "true-chorus")
    assert [x_extent(p) for p in marks] == [pytest.approx(t) for t in truths]
    assert legend_texts(ax).count("true chorus") == 1
    assert "detected chorus" in legend_texts(ax)
    lo, hi = ax.get_xlim()
    assert lo == 0.0 and hi >= 30.0 and hi == pytest.approx(30.0)
    assert ax.get_xlabel() == "time (s)" and ax.get_title() == "a song"
    save_png(ax, tmp_path, "chorus")


def test_chorus_long_song_is_an_envelope():
    y = song(60.0)  # 480 000 samples
    ax = plot_chorus(y, SR, chorus_start=0.0, clip_length=10.0)
    assert not ax.get_lines()  # no 480k-point line
    (env,) = ax.collections
    verts = np.concatenate([p.vertices for p in env.get_paths()])
    assert len(verts) < 20_000
    # the envelope reaches the signal's extremes, and spans the song
    assert verts[:, 1].max() == pytest.approx(y.max())
    assert verts[:, 1].min() == pytest.approx(y.min())
    assert verts[:, 0].min() < 0.1 and verts[:, 0].max() > 59.9
    assert by_gid(ax, "true-chorus") == []


def test_chorus_short_song_is_a_line():
    y = song(0.25)  # 2000 samples
    ax = plot_chorus(y, SR, chorus_start=0.0, clip_length=0.25)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), y)
    assert line.get_xdata()[-1] == pytest.approx((y.size - 1) / SR)


def test_chorus_on_given_axes():
    fig, (a, b) = plt.subplots(2)
    try:
        assert plot_chorus(song(5.0), SR, chorus_start=1, clip_length=2, ax=b) is b
        assert not a.patches
        assert sorted(p.get_gid() for p in b.patches) == ["detected-chorus", "detected-chorus-outline"]
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y=np.zeros((2, 800))), "mono"),
        (dict(y=np.array([])), "empty"),
        (dict(y=np.array([0.0, np.nan] * 400)), "NaN"),
        (dict(sr=0), "sr must be > 0"),
        (dict(clip_length=-1), "clip_length must be > 0"),
        (dict(chorus_start=-0.5), "chorus_start must be >= 0"),
        (dict(chorus_start=8000), "after the end of the song"),
        (dict(true_choruses=[(2.0, 1.0)]), r"true_choruses\[0\] must end after it starts"),
        (dict(true_choruses=[3.0]), r"true_choruses\[0\] must be a \(start, end\) pair"),
        (dict(true_choruses=[(1, 2), (12, 13)]), r"true_choruses\[1\] starts at 12 s, after the end"),
    ],
)
def test_chorus_validation(kwargs, match):
    args = dict(y=song(10.0), sr=SR, chorus_start=1.0, clip_length=2.0) | kwargs
    y, sr = args.pop("y"), args.pop("sr")
    with pytest.raises(ValueError, match=match):
        plot_chorus(y, sr, **args)


# -- plot_mel --------------------------------------------------------------------------
def test_mel_image_extent_and_colorbar(tmp_path):
    rng = np.random.RandomState(0)
    S_db = (rng.rand(250, 64) * -80).astype(np.float32)  # (n_frames, n_mels)
    ax = plot_mel(S_db, sr=16000, hop_length=200, title="chorus")
    (image,) = ax.get_images()
    assert isinstance(image, AxesImage)
    np.testing.assert_array_equal(image.get_array(), S_db.T)
    assert image.origin == "lower"
    left, right, bottom, top = image.get_extent()
    assert (left, right) == pytest.approx((0.0, 250 * 200 / 16000))  # 3.125 s
    assert (bottom, top) == pytest.approx((-0.5, 63.5))
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "mel band"
    assert ax.get_title() == "chorus"
    cbar = image.colorbar
    assert cbar is not None
    assert cbar.formatter(-12.0) == "-12 dB" and cbar.formatter(0.0) == "+0 dB"
    save_png(ax, tmp_path, "mel")


def test_mel_without_colorbar():
    ax = plot_mel(np.zeros((10, 8)), sr=8000, hop_length=80, colorbar=False)
    assert ax.get_images()[0].colorbar is None
    assert len(ax.figure.axes) == 1


@pytest.mark.parametrize(
    "S, kwargs, match",
    [
        (np.zeros(10), {}, r"2-D \(n_frames, n_mels\)"),
        (np.zeros((0, 64)), {}, "empty"),
        (np.full((3, 4), np.inf), {}, "NaN or inf"),
        (np.zeros((3, 4)), dict(hop_length=0), "hop_length must be a positive integer"),
        (np.zeros((3, 4)), dict(hop_length=2.5), "hop_length must be a positive integer"),
        (np.zeros((3, 4)), dict(sr=-1), "sr must be > 0"),
    ],
)
def test_mel_validation(S, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_mel(S, **(dict(sr=16000, hop_length=200) | kwargs))


# -- plot_history ------------------------------------------------------------------------
def lines_by_label(*axes):
    return {line.get_label(): line for ax in axes for line in ax.get_lines()}


def test_history_losses_left_accuracy_right(tmp_path):
    h, rows = make_history()
    ax = plot_history(h)
    left = lines_by_label(ax)
    assert set(left) == {"train_loss", "valid_loss"}
    np.testing.assert_allclose(left["train_loss"].get_ydata(), rows[:, 0])
    np.testing.assert_allclose(left["valid_loss"].get_ydata(), rows[:, 1])
    np.testing.assert_array_equal(left["train_loss"].get_xdata(), [1, 2, 3, 4])
    right = lines_by_label(ax.right_ax)
    assert set(right) == {"valid_acc"}
    np.testing.assert_allclose(right["valid_acc"].get_ydata(), rows[:, 2])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.right_ax.get_ylabel() == "accuracy"
    assert set(legend_texts(ax.right_ax)) == {"train_loss", "valid_loss", "valid_acc"}
    save_png(ax, tmp_path, "history")


def test_history_list_of_dicts_and_absent_keys():
    h, rows = make_history()
    as_list = [{k: v for k, v in row.items() if k != "valid_loss"} for row in h]
    assert isinstance(as_list, list) and not isinstance(as_list, History)
    ax = plot_history(as_list, keys=("train_loss", "valid_loss", "nope"), acc_keys=("valid_acc", "f1"))
    assert set(lines_by_label(ax)) == {"train_loss"}
    assert set(lines_by_label(ax.right_ax)) == {"valid_acc"}


def test_history_partial_key_and_no_epoch_entry():
    rows = [{"train_loss": 1.0}, {"train_loss": 0.8, "valid_loss": 0.9}, {"train_loss": 0.5, "valid_loss": 0.7}]
    ax = plot_history(rows)
    lines = lines_by_label(ax)
    np.testing.assert_array_equal(lines["train_loss"].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines["valid_loss"].get_xdata(), [2, 3])
    np.testing.assert_allclose(lines["valid_loss"].get_ydata(), [0.9, 0.7])
    assert not hasattr(ax, "right_ax")  # no accuracy: no twin axes
    assert len(ax.figure.axes) == 1


def test_history_accuracy_only_goes_left():
    ax = plot_history([{"valid_acc": 0.5}, {"valid_acc": 0.9}])
    assert set(lines_by_label(ax)) == {"valid_acc"}
    assert len(ax.figure.axes) == 1


def test_history_of_a_fitted_net():
    from viral_sklearn import LSTMClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(20, 6, 3).astype(np.float32)
    y = np.arange(20) % 2
    net = LSTMClassifier(max_epochs=3, module__hidden_size=4, module__head_size=4, random_state=0,
                         early_stopping=None).fit(X, y)  # one pass: its history has the validation scores
    ax = plot_history(net.history_)
    lines = lines_by_label(ax)
    np.testing.assert_allclose(lines["train_loss"].get_ydata(), net.history_[:, "train_loss"])
    np.testing.assert_allclose(lines["valid_loss"].get_ydata(), net.history_[:, "valid_loss"])
    np.testing.assert_allclose(lines_by_label(ax.right_ax)["valid_acc"].get_ydata(), net.history_[:, "valid_acc"])
    np.testing.assert_array_equal(lines["train_loss"].get_xdata(), [1, 2, 3])


@pytest.mark.parametrize(
    "history, kwargs, match",
    [
        (History(), {}, "history is empty"),
        ([], {}, "history is empty"),
        ({"train_loss": [1.0]}, {}, "skorch History or a list of per-epoch dicts"),
        ([0.5, 0.4], {}, r"history\[0\] must be a dict"),
        ([{"lr": 0.1}], {}, r"none of .* is in the history; it records \['lr'\]"),
        ([{"train_loss": 1.0}], dict(keys="train_loss"), "sequences of names"),
    ],
)
def test_history_validation(history, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_history(history, **kwargs)


# -- plot_roc / plot_precision_recall -------------------------------------------------------
def test_roc_curve_auc_and_chance(tmp_path):
    y, score = binary_scores()
    fpr, tpr, _ = roc_curve(y, score)
    expected = f"{auc(fpr, tpr):.2f}"
    ax = plot_roc(y, score)
    curve, chance = ax.get_lines()
    np.testing.assert_allclose(curve.get_xdata(), fpr)
    np.testing.assert_allclose(curve.get_ydata(), tpr)
    assert curve.get_label() == f"AUC = {expected}"
    assert any(expected in text for text in legend_texts(ax))
    assert chance.get_gid() == "chance"
    np.testing.assert_array_equal(chance.get_xydata(), [[0, 0], [1, 1]])
    save_png(ax, tmp_path, "roc")


def test_roc_string_labels_pos_label_and_overlay():
    y, score = binary_scores()
    labels = np.where(y == 1, "viral", "flop")
    with pytest.raises(ValueError, match="pass pos_label="):
        plot_roc(labels, score)
    ax = plot_roc(labels, score, pos_label="viral", name="lstm")
    # "flop" as positive: the scores point the other way, AUC is 1 - AUC
    plot_roc(labels, -score, pos_label="flop", name="reversed", ax=ax)
    fpr, tpr, _ = roc_curve(y, score)
    texts = legend_texts(ax)
    assert texts[0] == f"lstm (AUC = {auc(fpr, tpr):.2f})"
    assert texts[-1] == f"reversed (AUC = {auc(fpr, tpr):.2f})"
    assert sum(line.get_gid() == "chance" for line in ax.get_lines()) == 1  # drawn once


def test_precision_recall_curve_and_ap(tmp_path):
    y, score = binary_scores()
    expected = f"{average_precision_score(y, score):.2f}"
    ax = plot_precision_recall(y, score)
    curve, chance = ax.get_lines()
    assert curve.get_label() == f"AP = {expected}"
    assert curve.get_drawstyle() == "steps-post"
    assert any(expected in text for text in legend_texts(ax))
    np.testing.assert_allclose(chance.get_ydata(), [0.5, 0.5])  # half the songs are positive
    assert ax.get_xlabel().startswith("recall") and ax.get_ylabel().startswith("precision")
    save_png(ax, tmp_path, "pr")


def test_precision_recall_pos_label():
    y, score = binary_scores()
    labels = np.where(y == 1, "viral", "flop")
    ax = plot_precision_recall(labels, score, pos_label="viral")
    assert legend_texts(ax)[0] == f"AP = {average_precision_score(y, score):.2f}"


@pytest.mark.parametrize("plot", [plot_roc, plot_precision_recall])
@pytest.mark.parametrize(
    "y_true, y_score, kwargs, match",
    [
        ([0, 1, 1], [0.1, 0.2], {}, "different lengths: 3 != 2"),
        ([1, 1, 1], [0.1, 0.2, 0.3], {}, "exactly two classes"),
        ([0, 1, 2], [0.1, 0.2, 0.3], {}, "exactly two classes"),
        ([0, 1], [[0.9, 0.1], [0.2, 0.8]], {}, r"proba\[:, 1\]"),
        ([0, 1], [0.1, np.nan], {}, "NaN or inf"),
        ([0, 1], [0.1, 0.2], dict(pos_label=2), "pos_label=2 is not one of the classes"),
        ([], [], {}, "y_true is empty"),
    ],
)
def test_binary_curve_validation(plot, y_true, y_score, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot(y_true, y_score, **kwargs)


# -- plot_confusion_matrix ---------------------------------------------------------------------
def cell_texts(ax) -> np.ndarray:
    """The annotated cell texts as a (rows, cols) array, read from their positions."""
    texts = [t for t in ax.texts if t.get_text()]
    n = int(round(np.sqrt(len(texts))))
    grid = np.empty((n, n), dtype=object)
    for t in texts:
        x, y = t.get_position()
        grid[int(round(y)), int(round(x))] = t.get_text()
    return grid


def test_confusion_matrix_counts(tmp_path):
    y_true = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    y_pred = np.array([0, 1, 1, 1, 1, 1, 0, 1])
    ax = plot_confusion_matrix(y_true, y_pred)
    expected = confusion_matrix(y_true, y_pred)  # [[1, 2], [1, 4]]
    assert cell_texts(ax).tolist() == expected.astype(str).tolist()
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"]
    assert ax.get_xlabel() == "Predicted label" and ax.get_ylabel() == "True label"
    save_png(ax, tmp_path, "confusion")


def test_confusion_matrix_labels_order():
    y_true = ["viral", "flop", "flop", "viral", "flop"]
    y_pred = ["viral", "viral", "flop", "viral", "flop"]
    ax = plot_confusion_matrix(y_true, y_pred, labels=["viral", "flop"])
    assert cell_texts(ax).tolist() == [["2", "0"], ["1", "2"]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["viral", "flop"]


def test_confusion_matrix_display_labels_and_title():
    y_true = np.array([0, 0, 1, 1, 1])
    y_pred = np.array([0, 1, 1, 1, 0])
    ax = plot_confusion_matrix(y_true, y_pred, labels=[0, 1], display_labels=["not viral", "viral"],
                               title="LSTM on 5 held-out songs")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["not viral", "viral"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["not viral", "viral"]
    assert cell_texts(ax).tolist() == [["1", "1"], ["1", "2"]]  # the counts keep the labels' order
    assert ax.get_title() == "LSTM on 5 held-out songs"
    with pytest.raises(ValueError, match="display_labels names 1 classes, there are 2"):
        plot_confusion_matrix(y_true, y_pred, display_labels=["viral"])


def test_roc_title():
    y, score = binary_scores()
    assert plot_roc(y, score).get_title() == ""
    assert plot_roc(y, score, name="LSTM", title="LSTM on 60 held-out songs").get_title() == "LSTM on 60 held-out songs"


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, match",
    [
        ([0, 1], [0, 1, 1], {}, "different lengths: 2 != 3"),
        ([[0, 1]], [[0, 1]], {}, "y_true must be 1-D"),
        ([0, 1], [0, 1], dict(labels=[5, 6]), "none of labels"),
        ([0, 1], [0, 1], dict(labels=[0, 0, 1]), "duplicates"),
    ],
)
def test_confusion_matrix_validation(y_true, y_pred, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_confusion_matrix(y_true, y_pred, **kwargs)


# -- matplotlib is optional ----------------------------------------------------------------------
def test_import_error_without_matplotlib(monkeypatch):
    message = "viral_sklearn.plotting needs matplotlib: pip install 'viral-sklearn\\[plot\\]'"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    module = importlib.reload(plotting)  # importing the module itself needs no matplotlib
    try:
        with pytest.raises(ImportError, match=message):
            importlib.import_module("viral_sklearn.plotting._checks")._require_matplotlib()
        y, score = binary_scores()
        with pytest.raises(ImportError, match=message):
            module.plot_roc(y, score)
        with pytest.raises(ImportError, match=message):
            module.plot_chorus(song(2.0), SR, chorus_start=0, clip_length=1)
    finally:
        monkeypatch.undo()
        importlib.reload(plotting)
    assert isinstance(plotting.plot_roc(y, score), Axes)


# -- plot_comparison ------------------------------------------------------------
def comparison_table():
    import pandas as pd

    return pd.DataFrame({
        "model": ["LSTM", "pooled", "dummy"],
        "roc_auc_mean": [0.8, 0.7, 0.5], "roc_auc_std": [0.05, 0.1, 0.0],
        "average_precision_mean": [0.6, 0.55, 0.3], "average_precision_std": [0.02, 0.03, 0.01],
    })


def test_plot_comparison_draws_one_bar_per_model_and_metric_and_the_dummy_as_lines(tmp_path):
    from viral_sklearn.plotting import plot_comparison

    ax = plot_comparison(comparison_table(), title="grouped CV")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["LSTM", "pooled"]  # top to bottom
    assert ax.get_yticks().tolist() == [1.0, 0.0]
    assert legend_texts(ax) == ["ROC-AUC", "PR-AUC (average precision)"]
    widths = [[round(p.get_width(), 6) for p in c.patches] for c in ax.containers if hasattr(c, "patches")]
    assert widths == [[0.8, 0.7], [0.6, 0.55]]
    lines = {line.get_gid(): line.get_xdata()[0] for line in ax.get_lines() if line.get_gid()}
    assert lines == {"dummy:roc_auc": 0.5, "dummy:average_precision": 0.3}
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_title() == "grouped CV"
    save_png(ax, tmp_path, "comparison")


def test_plot_comparison_without_a_dummy_and_on_given_axes():
    from matplotlib.figure import Figure

    from viral_sklearn.plotting import plot_comparison

    ax = Figure().subplots()
    assert plot_comparison(comparison_table(), metrics="roc_auc", dummy=None, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["LSTM", "pooled", "dummy"]
    assert not [line for line in ax.get_lines() if line.get_gid()]


@pytest.mark.parametrize(
    "table, kwargs, message",
    [
        (lambda t: t.drop(columns="model"), {}, "results must be a DataFrame with a 'model' column"),
        (lambda t: t, {"metrics": ("f1_macro",)}, "results has no column \\['f1_macro_mean'\\]"),
        (lambda t: t, {"metrics": ()}, "metrics is empty"),
        (lambda t: t[t.model == "dummy"], {}, "no model to draw besides the dummy"),
    ],
)
def test_plot_comparison_validates_its_input(table, kwargs, message):
    from viral_sklearn.plotting import plot_comparison

    with pytest.raises(ValueError, match=message):
        plot_comparison(table(comparison_table()), **kwargs)

"""The sequence model's options: standardisation, readouts, CRNN, training aids (issue 19)."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from viral_sklearn import LSTMClassifier, LSTMModule
from viral_sklearn.models._augment import Augmentation
from viral_sklearn.models._readout import Readout
from viral_sklearn.models._scaling import BandScaler, band_statistics

#: every training aid off: what is left is the network and Adam
PLAIN = dict(time_mask=0, freq_mask=0, time_shift=0, mixup=0, gradient_clip=None, weight_decay=0,
             early_stopping=None, module__dropout=0.0)


def make_sequences(n=40, frames=20, features=6, seed=0, scale=1.0, offset=0.0):
    """Class 1 has a bump in feature 0 in the second half; dB-like offset and scale."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, frames, features).astype(np.float32)
    y = np.arange(n) % 2
    X[y == 1, frames // 2:, 0] += 2.0
    return (X * scale + offset).astype(np.float32), y


# ----------------------------------------------------------------------
# standardisation
# ----------------------------------------------------------------------
def test_band_statistics_and_scaler():
    X, _ = make_sequences(scale=10.0, offset=-40.0)
    mean, std = band_statistics(X)
    np.testing.assert_allclose(mean, X.reshape(-1, X.shape[-1]).mean(0), rtol=1e-5)
    np.testing.assert_allclose(std, X.reshape(-1, X.shape[-1]).std(0), rtol=1e-4)
    np.testing.assert_array_equal(band_statistics(np.zeros((2, 3, 4), np.float32))[1], np.float32(1e-3))  # no blow-up
    scaler = BandScaler(X.shape[-1])
    scaler.set_statistics(mean, std)
    out = scaler(torch.from_numpy(X)).numpy().reshape(-1, X.shape[-1])
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-3)
    with pytest.raises(ValueError, match="positive standard deviations"):
        scaler.set_statistics(mean, np.zeros_like(std))


def test_standardisation_is_learned_in_fit_and_makes_the_model_blind_to_units():
    """Trained on dB-like values or on the same values rescaled, the standardised
    model is the same model; the notebook's (no standardisation) is not."""
    X, y = make_sequences()
    Xdb, _ = make_sequences(scale=20.0, offset=-60.0)
    kw = dict(max_epochs=3, random_state=0, **PLAIN)
    a = LSTMClassifier(**kw).fit(X, y)
    b = LSTMClassifier(**kw).fit(Xdb, y)
    np.testing.assert_allclose(b.module_.scaler.mean.numpy(), band_statistics(Xdb)[0])
    np.testing.assert_allclose(b.module_.scaler.std.numpy(), band_statistics(Xdb)[1])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(Xdb), atol=1e-4)
    raw = dict(kw, module__standardize=False)
    c = LSTMClassifier(**raw).fit(X, y)
    d = LSTMClassifier(**raw).fit(Xdb, y)
    assert c.module_.scaler is None
    assert not np.allclose(c.predict_proba(X), d.predict_proba(Xdb), atol=1e-2)


def test_standardisation_survives_a_rebuilt_network():
    X, y = make_sequences(scale=10.0, offset=-40.0)
    clf = LSTMClassifier(max_epochs=1, random_state=0, train_split=None).fit(X, y)
    mean = clf.module_.scaler.mean.clone()
    clf.set_params(module__hidden_size=8)  # re-initialises the module
    assert torch.equal(clf.module_.scaler.mean, mean)


def test_standardisation_is_saved_in_both_formats(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from viral_sklearn.persistence import ModelFormatError, load_pipeline, save_pipeline

    X, y = make_sequences(scale=10.0, offset=-40.0)
    pipe = Pipeline([("clf", LSTMClassifier(max_epochs=2, random_state=0, module__readout="mean",
                                            module__bidirectional=True, module__conv_channels=4, mixup=0.2,
                                            time_shift=0.2, module__band_stats=True))]).fit(X, y)
    expected = pipe.predict_proba(X)

    joblib.dump(pipe, tmp_path / "m.joblib")
    again = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(again.predict_proba(X), expected)
    assert torch.equal(again[-1].module_.scaler.std, pipe[-1].module_.scaler.std)

    path = save_pipeline(pipe, tmp_path / "m.safetensors")
    loaded = load_pipeline(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert torch.equal(loaded[-1].module_.scaler.mean, pipe[-1].module_.scaler.mean)
    for name in ("module__readout", "module__bidirectional", "module__conv_channels", "module__standardize",
                 "module__band_stats",
                 "mixup", "time_shift", "time_mask", "freq_mask", "weight_decay", "gradient_clip", "early_stopping"):
        assert loaded[-1].get_params()[name] == pipe[-1].get_params()[name], name

    # the standardisation is checked at load: a zero std is refused
    with safe_open(path, "np") as fh:
        metadata = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    assert {"clf.scaler.mean", "clf.scaler.std"} <= set(tensors)
    tensors["clf.scaler.std"] = np.zeros_like(tensors["clf.scaler.std"])
    save_file(tensors, tmp_path / "bad.safetensors", metadata=metadata)
    with pytest.raises(ModelFormatError, match=r"'clf.scaler.std' \(the input standardisation's std\) holds values <= 0"):
        load_pipeline(tmp_path / "bad.safetensors")
    # and a file without it, for a network that has one, does not fit
    del tensors["clf.scaler.std"], tensors["clf.scaler.mean"]
    save_file(tensors, tmp_path / "none.safetensors", metadata=metadata)
    with pytest.raises(ModelFormatError, match=r"no tensor \['scaler.mean', 'scaler.std'\]"):
        load_pipeline(tmp_path / "none.safetensors")


# ----------------------------------------------------------------------
# the network's options
# ----------------------------------------------------------------------
def test_readouts():
    states = torch.randn(3, 7, 4)
    assert torch.equal(Readout(4, "last")(states), states[:, -1])
    assert torch.allclose(Readout(4, "mean")(states), states.mean(1))
    both = Readout(4, "last", bidirectional=True)(states)
    assert torch.equal(both[:, :2], states[:, -1, :2]) and torch.equal(both[:, 2:], states[:, 0, 2:])
    att = Readout(4, "attention")
    with torch.no_grad():  # a score that only sees feature 0: the step where it is largest dominates
        att.score.weight.zero_()
        att.score.weight[0, 0] = 1e4
        att.score.bias.zero_()
    peak = states[torch.arange(3), states[:, :, 0].argmax(1)]
    assert torch.allclose(att(states), peak, atol=1e-3)
    with pytest.raises(ValueError, match="readout must be one of"):
        Readout(4, "max")


def test_each_network_option_changes_what_it_should():
    X, y = make_sequences(n=20)
    base = dict(max_epochs=1, random_state=0, train_split=None, module__hidden_size=8)
    plain = LSTMClassifier(**base).fit(X, y).module_
    assert plain.readout.kind == "attention" and plain.readout.score is not None  # the default
    assert plain.front.conv.out_channels == 32 and not plain.lstm.bidirectional and plain.dropout.p == 0.2
    assert LSTMClassifier(**base, module__conv_channels=0).fit(X, y).module_.front is None
    last = LSTMClassifier(**base, module__readout="last").fit(X, y).module_
    assert last.readout.kind == "last" and last.readout.score is None
    bi = LSTMClassifier(**base, module__bidirectional=True).fit(X, y).module_
    assert bi.lstm.bidirectional and bi.head[0].in_features == 16
    crnn = LSTMClassifier(**base, module__conv_channels=5, module__conv_kernel=3).fit(X, y).module_
    assert crnn.front.conv.out_channels == 5 and crnn.lstm.input_size == 5
    assert crnn.front(torch.zeros(2, 20, 6)).shape == (2, 10, 5)  # half the steps
    assert LSTMClassifier(**base, module__dropout=0.5).fit(X, y).module_.dropout.p == 0.5
    stats = LSTMClassifier(**base, module__band_stats=True).fit(X, y).module_
    assert stats.band_stats and stats.head[0].in_features == 8 + 2 * 6  # the readout and each band's mean, std
    # the notebook's network: LSTMModule's own defaults
    notebook = LSTMModule(input_size=6)
    assert notebook.scaler is None and notebook.readout.kind == "last" and notebook.dropout.p == 0.0


def test_each_training_option_reaches_skorch():
    X, y = make_sequences(n=30)
    clf = LSTMClassifier(max_epochs=1, random_state=0, weight_decay=0.01, gradient_clip=0.5,
                         early_stopping=10).fit(X, y)
    assert clf.optimizer_.param_groups[0]["weight_decay"] == 0.01
    callbacks = dict(clf.callbacks_)
    assert callbacks["gradient_clip"].gradient_clip_value == 0.5
    assert callbacks["early_stopping"].load_best and callbacks["early_stopping"].patience == 10
    off = dict(LSTMClassifier(max_epochs=1, random_state=0, weight_decay=0, gradient_clip=None,
                              early_stopping=None).fit(X, y).callbacks_)
    assert "gradient_clip" not in off and "early_stopping" not in off
    no_split = LSTMClassifier(max_epochs=1, random_state=0, train_split=None).fit(X, y)
    assert "early_stopping" not in dict(no_split.callbacks_)  # nothing to monitor
    assert LSTMClassifier(max_epochs=1, random_state=0, weight_decay=0,
                          optimizer__weight_decay=0.3).fit(X, y).optimizer_.param_groups[0]["weight_decay"] == 0.3


def test_gradient_clipping_bounds_the_gradient_norm():
    X, y = make_sequences(n=16)
    norms = []

    from skorch.callbacks import Callback

    class Norm(Callback):
        def on_batch_end(self, net, **kwargs):
            grads = [p.grad.norm() for p in net.module_.parameters() if p.grad is not None]
            norms.append(float(torch.norm(torch.stack(grads))))

    LSTMClassifier(max_epochs=3, lr=1.0, random_state=0, train_split=None, gradient_clip=1e-3,
                   callbacks=[("norm", Norm())]).fit(X, y)
    assert norms and max(norms) <= 1e-3 * 1.001


@pytest.mark.parametrize("bad, match", [
    (dict(time_mask=1.5), "'time_mask' parameter of LSTMClassifier must be a float in the range"),
    (dict(mixup=-1), "'mixup' parameter"),
    (dict(early_stopping=0), "'early_stopping' parameter"),
    (dict(early_stopping="best"), r"'early_stopping' parameter of LSTMClassifier must be .*\{'refit'\}"),
    (dict(gradient_clip=0), "'gradient_clip' parameter"),
])
def test_bad_training_options_are_refused(bad, match):
    X, y = make_sequences(n=20)
    with pytest.raises(ValueError, match=match):
        LSTMClassifier(max_epochs=1, **bad).fit(X, y)


def test_grid_search_reaches_the_new_parameters():
    X, y = make_sequences(n=24)
    grid = GridSearchCV(
        LSTMClassifier(max_epochs=1, random_state=0, train_split=None, module__hidden_size=4),
        {"module__readout": ["last", "attention"], "time_mask": [0.0, 0.2], "module__standardize": [True]},
        cv=2,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.module_.readout.kind == grid.best_params_["module__readout"]


def test_band_stats_hand_the_head_the_pooled_statistics_of_the_standardised_input():
    """With ``band_stats`` the head reads [readout, mean over time, std over time] of the scaled input:
    a head that only looks at the mean of band 0 scores exactly that statistic."""
    X, y = make_sequences(n=20, scale=10.0, offset=-40.0)
    clf = LSTMClassifier(max_epochs=1, random_state=0, train_split=None, module__hidden_size=8,
                         module__band_stats=True).fit(X, y)
    net = clf.module_.eval()
    captured = []
    hook = net.head.register_forward_hook(lambda m, inputs, out: captured.append(inputs[0]))
    with torch.no_grad():
        net(torch.from_numpy(X))
    hook.remove()
    scaled = (X - clf.module_.scaler.mean.numpy()) / clf.module_.scaler.std.numpy()
    summary = captured[0].numpy()
    assert summary.shape == (20, 8 + 12)
    np.testing.assert_allclose(summary[:, 8:14], scaled.mean(axis=1), atol=1e-5)
    np.testing.assert_allclose(summary[:, 14:], scaled.std(axis=1), atol=1e-4)
    assert LSTMModule(input_size=6).band_stats is False  # LSTMModule's own default: off


# ----------------------------------------------------------------------
# augmentation
# ----------------------------------------------------------------------
def test_augmentations_do_what_they_say():
    X = torch.arange(2 * 10 * 4, dtype=torch.float32).reshape(2, 10, 4)
    y = torch.tensor([0, 1])
    fill = torch.tensor([-1.0, -2.0, -3.0, -4.0])
    torch.manual_seed(0)
    shifted, _, _ = Augmentation(time_shift=0.5)(X, y)
    for i in range(2):  # each clip is a roll of itself
        assert any(torch.equal(shifted[i], torch.roll(X[i], k, dims=0)) for k in range(-5, 6))
    masked, _, _ = Augmentation(time_mask=0.5, fill=fill)(X, y)
    changed = (masked != X).any(dim=2)  # whole frames, set to the fill
    assert torch.equal(masked[changed], fill.expand(int(changed.sum()), 4))
    assert changed.sum(1).max() <= 5
    bands, _, _ = Augmentation(freq_mask=2, fill=fill)(X, y)
    hit = (bands != X).any(dim=1)  # whole bands
    assert hit.sum(1).max() <= 2
    mixed, y2, lam = Augmentation(mixup=0.4)(X, y)
    assert 0.5 <= lam <= 1.0 and set(y2.tolist()) <= {0, 1}
    assert torch.equal(X, torch.arange(80, dtype=torch.float32).reshape(2, 10, 4))  # input untouched
    torch.manual_seed(3)
    a = Augmentation(time_mask=0.3, freq_mask=2, time_shift=0.3, mixup=0.4)(X, y)
    torch.manual_seed(3)
    b = Augmentation(time_mask=0.3, freq_mask=2, time_shift=0.3, mixup=0.4)(X, y)
    assert torch.equal(a[0], b[0])


AUGMENTATIONS = [dict(time_mask=0.3), dict(freq_mask=3), dict(time_shift=0.3), dict(mixup=0.4)]


@pytest.mark.parametrize("augment", AUGMENTATIONS, ids=lambda d: next(iter(d)))
def test_augmentation_is_seeded_changes_training_and_never_prediction(augment):
    X, y = make_sequences()
    kw = dict(max_epochs=2, random_state=0, train_split=None, **{**PLAIN, **augment})
    one = LSTMClassifier(**kw).fit(X, y)
    two = LSTMClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(one.predict_proba(X), two.predict_proba(X))  # same seed, same model
    other_seed = LSTMClassifier(**{**kw, "random_state": 1}).fit(X, y)
    assert not np.array_equal(one.predict_proba(X), other_seed.predict_proba(X))
    without = LSTMClassifier(**{**kw, **PLAIN}).fit(X, y)
    assert not np.array_equal(one.predict_proba(X), without.predict_proba(X))  # training saw other batches
    before = one.predict_proba(X)
    off = {k: v for k, v in PLAIN.items() if not k.startswith("module__")}  # (a module__ change rebuilds it)
    np.testing.assert_array_equal(one.set_params(**off).predict_proba(X), before)  # prediction: no augmentation
    np.testing.assert_array_equal(one.predict_proba(X), before)  # and no randomness


# ----------------------------------------------------------------------
# early stopping, too few songs
# ----------------------------------------------------------------------
def test_early_stopping_restores_the_best_epoch():
    X, y = make_sequences(n=60, seed=2)
    y = np.random.RandomState(0).permutation(y)  # nothing to learn: the validation loss soon rises
    clf = LSTMClassifier(max_epochs=60, lr=0.05, random_state=0, early_stopping=3, **{
        k: v for k, v in PLAIN.items() if k != "early_stopping"}).fit(X, y)
    losses = clf.history[:, "valid_loss"]
    best = int(np.argmin(losses))
    assert len(losses) < 60 and len(losses) == best + 1 + 3  # stopped 3 epochs after the best
    # the restored network scores the best epoch's validation loss, not the last one's
    _, valid = clf.get_split_datasets(X, clf.label_encoder_.transform(y))
    proba = clf.predict_proba(valid)
    yv = np.array([valid[i][1] for i in range(len(valid))])
    loss = -np.mean(np.log(proba[np.arange(len(yv)), yv]))
    assert loss == pytest.approx(losses[best], rel=1e-4)
    assert losses[-1] > losses[best]


def test_refit_trains_the_best_epoch_count_again_on_every_song():
    """early_stopping="refit" (the default): the first pass's lowest validation loss sets the epochs of a
    second pass on every song, which is exactly a one-pass fit of that many epochs with the same seed."""
    X, y = make_sequences(n=40, seed=3)
    y = np.random.RandomState(1).permutation(y)  # little to learn: the validation loss soon rises
    kw = dict(lr=0.05, random_state=0, module__hidden_size=8)
    clf = LSTMClassifier(max_epochs=8, **kw).fit(X, y)
    assert clf.early_stopping == "refit"
    first = clf.validation_history_
    losses = first[:, "valid_loss"]
    assert len(first) == 8  # the first pass is never cut short
    assert clf.best_epoch_ == int(np.argmin(losses)) + 1 < 8
    assert len(clf.history_) == clf.best_epoch_ and "valid_loss" not in clf.history_[-1]
    assert sum(b.get("train_batch_size", 0) for b in first[0, "batches"]) == 32  # 20% held out in the first pass
    assert sum(b.get("train_batch_size", 0) for b in clf.history_[0, "batches"]) == 40  # every song in the second
    one_pass = LSTMClassifier(max_epochs=clf.best_epoch_, train_split=None, early_stopping=None, **kw).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), one_pass.predict_proba(X))
    again = LSTMClassifier(max_epochs=8, **kw).fit(X, y)  # seeded
    np.testing.assert_array_equal(clf.predict_proba(X), again.predict_proba(X))
    # without a validation split there is nothing to choose from: one pass of max_epochs on every song
    plain = LSTMClassifier(max_epochs=3, train_split=None, **kw).fit(X, y)
    assert len(plain.history_) == 3 and plain.best_epoch_ is None and plain.validation_history_ is None
    # another early stopping leaves them unset too
    assert LSTMClassifier(max_epochs=2, early_stopping=5, **kw).fit(X, y).best_epoch_ is None


@pytest.mark.parametrize("n, y", [(4, [0, 1, 0, 1]), (9, [0] * 8 + [1])], ids=["few songs", "one-song class"])
def test_too_few_songs_for_the_validation_split_is_a_clear_error(n, y):
    X, _ = make_sequences(n=n)
    with pytest.raises(ValueError, match=rf"LSTMClassifier: {n} songs \(0: \d, 1: \d\) are too few for its "
                                         r"internal validation split .* or pass train_split=None"):
        LSTMClassifier(max_epochs=1).fit(X, np.array(y))
    LSTMClassifier(max_epochs=1, train_split=None).fit(X, np.array(y))  # without the split it trains

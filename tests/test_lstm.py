"""LSTMClassifier and LSTMModule on arrays."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from viral_sklearn import LSTMClassifier, LSTMModule


def make_sequences(n=40, frames=25, features=6, seed=0):
    """Class 1 has a rising ramp in feature 0 near the end of the sequence."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, frames, features).astype(np.float32)
    y = np.arange(n) % 2
    X[y == 1, -8:, 0] += np.linspace(0, 3, 8, dtype=np.float32)
    return X, y


def test_module_outputs_logits_from_zero_state():
    net = LSTMModule(input_size=5, hidden_size=10)
    net.eval()
    X = torch.rand(4, 20, 5)
    out1, out2 = net(X), net(X)
    assert out1.shape == (4, 2)
    assert torch.equal(out1, out2)  # no random initial state
    assert not torch.allclose(out1.softmax(1).sum(1), out1.sum(1))  # logits, not probabilities
    assert isinstance(net.head[-1], torch.nn.Linear)


def test_defaults_and_the_notebooks_network():
    clf = LSTMClassifier()
    assert (clf.lr, clf.batch_size, clf.max_epochs) == (5e-3, 16, 30)
    assert clf.optimizer is torch.optim.Adam
    assert clf.criterion is torch.nn.CrossEntropyLoss
    assert clf.train_split == "auto" and clf.validation_fraction == 0.2
    sched = dict(clf.get_default_callbacks())["lr_scheduler"]
    assert sched.policy is torch.optim.lr_scheduler.StepLR
    assert (sched.kwargs["step_size"], sched.kwargs["gamma"]) == (10, 0.5)
    X, y = make_sequences(n=20)
    clf = LSTMClassifier(max_epochs=1, random_state=0).fit(X, y)
    net = clf.module_
    assert (net.lstm.input_size, net.lstm.hidden_size, net.lstm.num_layers) == (32, 64, 1)  # after the CRNN
    assert net.scaler is not None and net.readout.kind == "attention" and net.front.conv.kernel_size == (9,)
    assert net.head[-1].out_features == 2
    # the notebook's network and training, one dict away
    from viral_sklearn.models import NOTEBOOK_PARAMS

    old = LSTMClassifier(random_state=0, **{**NOTEBOOK_PARAMS, "max_epochs": 1}).fit(X, y)
    assert LSTMClassifier(**NOTEBOOK_PARAMS).max_epochs == 50
    assert old.module_.scaler is None and old.module_.front is None and old.module_.readout.kind == "last"
    assert (old.module_.lstm.input_size, old.module_.lstm.hidden_size) == (6, 64)
    assert set(dict(old.callbacks_)) == {"epoch_timer", "train_loss", "valid_loss", "valid_acc", "lr_scheduler",
                                         "print_log"}


def test_learns_a_simple_pattern():
    X, y = make_sequences(n=80)
    clf = LSTMClassifier(max_epochs=25, lr=1e-2, random_state=0, train_split=None).fit(X, y)
    Xt, yt = make_sequences(n=40, seed=1)
    assert clf.score(Xt, yt) >= 0.9


def test_same_seed_same_probabilities_and_global_rng_untouched():
    X, y = make_sequences()
    before = torch.random.get_rng_state()
    p1 = LSTMClassifier(max_epochs=3, random_state=7).fit(X, y).predict_proba(X)
    assert torch.equal(before, torch.random.get_rng_state())
    p2 = LSTMClassifier(max_epochs=3, random_state=7).fit(X, y).predict_proba(X)
    p3 = LSTMClassifier(max_epochs=3, random_state=8).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


def test_predict_is_deterministic_and_batch_size_independent():
    X, y = make_sequences()
    clf = LSTMClassifier(max_epochs=2, random_state=0).fit(X, y)
    p = clf.predict_proba(X)
    np.testing.assert_array_equal(p, clf.predict_proba(X))
    p_small = clf.set_params(batch_size=3).predict_proba(X)
    np.testing.assert_allclose(p, p_small, atol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(p, axis=1))


@pytest.mark.parametrize(
    "labels",
    [np.array(["hit", "flop"]), np.array([True, False]), np.array([3, 7])],
    ids=["str", "bool", "int"],
)
def test_any_label_type(labels):
    X, y01 = make_sequences(n=30)
    y = labels[y01]
    clf = LSTMClassifier(max_epochs=2, random_state=0).fit(X, y)
    assert set(clf.classes_) == set(labels)
    assert set(clf.predict(X)) <= set(labels)
    assert clf.predict(X).dtype == y.dtype
    assert np.isfinite(clf.validation_history_[-1, "valid_acc"])  # scored on the encoded labels (first pass)


def test_multiclass():
    X, _ = make_sequences(n=30)
    y = np.arange(30) % 3
    clf = LSTMClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert clf.predict_proba(X).shape == (30, 3)


def test_train_split_options():
    X, y = make_sequences(n=30)
    auto = LSTMClassifier(max_epochs=1, random_state=0, early_stopping=None).fit(X, y)
    assert "valid_loss" in auto.history[-1]
    refit = LSTMClassifier(max_epochs=1, random_state=0).fit(X, y)  # the default: the validation pass, then all songs
    assert "valid_loss" in refit.validation_history_[-1] and "valid_loss" not in refit.history[-1]
    none = LSTMClassifier(max_epochs=1, random_state=0, train_split=None).fit(X, y)
    assert "valid_loss" not in none.history[-1]
    with pytest.raises(ValueError, match="train_split must be 'auto', None or a callable"):
        LSTMClassifier(max_epochs=1, train_split="random").fit(X, y)


def test_hidden_size_and_lr_reach_the_module():
    X, y = make_sequences(n=20)
    clf = LSTMClassifier(max_epochs=1, random_state=0)
    clf.set_params(module__hidden_size=8, lr=0.1)
    clf.fit(X, y)
    assert clf.module_.lstm.hidden_size == 8
    assert clf.optimizer_.param_groups[0]["initial_lr"] == 0.1


def test_clone_and_params_round_trip():
    clf = LSTMClassifier(max_epochs=3, random_state=1, module__hidden_size=16)
    params = clf.get_params()
    assert params["module__hidden_size"] == 16 and params["random_state"] == 1
    twin = clone(clf)
    assert twin.get_params()["module__hidden_size"] == 16
    assert not hasattr(twin, "module_")


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((4, 5)), r"shape \(n_samples, n_frames, n_features\), got shape \(4, 5\)"),
        (np.full((4, 5, 2), np.nan), "NaN or infinity"),
    ],
)
def test_input_validation(X, match):
    with pytest.raises(ValueError, match=match):
        LSTMClassifier(max_epochs=1).fit(X, np.array([0, 1, 0, 1]))


def test_one_class_is_an_error():
    X, _ = make_sequences(n=10)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LSTMClassifier(max_epochs=1).fit(X, np.zeros(10, dtype=int))


def test_overfit_one_batch_reports_success_and_failure():
    from viral_sklearn import overfit_one_batch

    X, y = make_sequences(n=40)
    report = overfit_one_batch(LSTMClassifier(lr=1e-2, module__hidden_size=16), X, y, max_epochs=60)
    assert report.passed and report.accuracy == 1.0 and report.n_samples == 16
    assert report.losses[-1] < report.losses[0]
    assert "can overfit one batch of 16" in str(report)
    # labels that no function of X can fit (identical inputs, different labels)
    same = np.repeat(X[:1], 16, axis=0)
    bad = overfit_one_batch(LSTMClassifier(), same, np.arange(16) % 2, max_epochs=3)
    assert not bad.passed and bad.accuracy == 0.5 and bad.epochs == 3
    assert "could NOT overfit" in str(bad)


def test_training_batches_are_shuffled_by_default():
    clf = LSTMClassifier()
    assert clf.get_params()["iterator_train__shuffle"] is True
    assert LSTMClassifier(iterator_train__shuffle=False).get_params()["iterator_train__shuffle"] is False
    X, y = make_sequences(n=32)
    seen = []

    class Spy(torch.nn.Module):
        def __init__(self, **kw):
            super().__init__()
            self.inner = LSTMModule(**kw)

        def forward(self, X):
            if self.training:
                seen.append(X[:, 0, 0].detach().clone())
            return self.inner(X)

    LSTMClassifier(Spy, max_epochs=2, batch_size=32, train_split=None, random_state=0).fit(X, y)
    assert len(seen) == 2 and not torch.equal(seen[0], seen[1])  # each epoch sees another order


@pytest.mark.parametrize("params", [{"module__hidden_size": 12}, {"lr": 1e-3}, {"optimizer__weight_decay": 1e-4}])
def test_partial_fit_after_set_params_continues_training(params):
    """set_params of the module or the optimizer rebuilds them; the learning-rate
    scheduler then resumes at the history's last epoch on the new optimizer."""
    X, y = make_sequences()
    clf = LSTMClassifier(max_epochs=2, train_split=None, module__hidden_size=8, batch_size=8, random_state=0).fit(X, y)
    clf.set_params(**params)
    clf.partial_fit(X, y)
    assert len(clf.history_) == 4  # partial_fit trains max_epochs more
    assert clf.predict_proba(X).shape == (len(X), 2)
    if "module__hidden_size" in params:
        assert clf.module_.lstm.hidden_size == 12
    if "lr" in params:
        assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3)

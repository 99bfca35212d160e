"""LSTMClassifier(class_weight=...): the weights reach the loss, computed from the training labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from viral_sklearn import LSTMClassifier

#: 16 songs of one class, 4 of the other: an imbalanced toy set
Y = np.array(["flop"] * 16 + ["hit"] * 4)
X = np.random.RandomState(0).randn(20, 6, 3).astype(np.float32)


def frozen(**params):
    """One epoch, one batch of all samples, lr 0, no augmentation nor dropout: the reported loss is the
    loss of the initial network."""
    return LSTMClassifier(max_epochs=1, lr=0.0, batch_size=len(Y), train_split=None, random_state=0,
                          time_mask=0, freq_mask=0, time_shift=0, mixup=0, module__dropout=0.0, **params)


def cross_entropy(net, X, y, weights=None):
    """The loss by hand: mean over samples of -log softmax, each weighted by its class's weight."""
    with torch.no_grad():
        logits = net.module_(torch.from_numpy(X)).double()
    logp = torch.log_softmax(logits, dim=1).numpy()
    codes = net.label_encoder_.transform(y)
    losses = -logp[np.arange(len(y)), codes]
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)[codes]
    return float(np.sum(w * losses) / np.sum(w))


def test_balanced_weights_the_loss_by_inverse_class_frequency():
    plain, balanced = frozen().fit(X, Y), frozen(class_weight="balanced").fit(X, Y)
    # same seed: the same initial network; only the loss differs
    for a, b in zip(plain.module_.parameters(), balanced.module_.parameters()):
        torch.testing.assert_close(a, b)
    assert plain.class_weight_ is None
    np.testing.assert_allclose(balanced.class_weight_, [20 / (2 * 16), 20 / (2 * 4)])  # 0.625, 2.5
    np.testing.assert_allclose(balanced.criterion_.weight.numpy(), [0.625, 2.5])
    loss_plain, loss_balanced = plain.history[-1, "train_loss"], balanced.history[-1, "train_loss"]
    assert loss_plain == pytest.approx(cross_entropy(plain, X, Y), rel=1e-5)
    assert loss_balanced == pytest.approx(cross_entropy(balanced, X, Y, [0.625, 2.5]), rel=1e-5)
    # balanced: each class counts for half of the loss
    assert loss_balanced == pytest.approx(
        0.5 * cross_entropy(plain, X[Y == "flop"], Y[Y == "flop"]) + 0.5 * cross_entropy(plain, X[Y == "hit"], Y[Y == "hit"]),
        rel=1e-5,
    )
    assert abs(loss_balanced - loss_plain) > 1e-4


def test_a_dict_is_keyed_by_the_users_labels_and_omitted_labels_weigh_one():
    net = frozen(class_weight={"hit": 4.0}).fit(X, Y)
    np.testing.assert_allclose(net.class_weight_, [1.0, 4.0])
    assert net.history[-1, "train_loss"] == pytest.approx(cross_entropy(net, X, Y, [1.0, 4.0]), rel=1e-5)
    ints = frozen(class_weight={0: 2.0, 1: 1.0}).fit(X, (Y == "hit").astype(int))
    np.testing.assert_allclose(ints.class_weight_, [2.0, 1.0])


def test_weights_are_computed_from_each_fits_labels():
    net = frozen(class_weight="balanced").fit(X, Y)
    np.testing.assert_allclose(net.class_weight_, [0.625, 2.5])
    net.fit(X[6:], Y[6:])  # 10 flops, 4 hits
    np.testing.assert_allclose(net.class_weight_, [14 / 20, 14 / 8])
    np.testing.assert_allclose(net.criterion_.weight.numpy(), [14 / 20, 14 / 8])


def test_balanced_weights_make_the_minority_class_predicted():
    """A cue the minority class carries weakly: unweighted, the net predicts the majority everywhere."""
    rng = np.random.RandomState(1)
    y = np.r_[np.zeros(90, dtype=int), np.ones(10, dtype=int)]
    Xs = rng.randn(100, 4, 2).astype(np.float32)
    Xs[:, :, 0] += 0.5 * y[:, None]
    common = dict(max_epochs=30, lr=1e-2, batch_size=100, train_split=None, random_state=0)
    plain = LSTMClassifier(**common).fit(Xs, y)
    balanced = LSTMClassifier(class_weight="balanced", **common).fit(Xs, y)
    assert (plain.predict(Xs) == 1).sum() == 0
    recall = float(np.mean(balanced.predict(Xs)[y == 1] == 1))
    assert recall >= 0.7, recall


def test_class_weight_survives_clone_and_grid_search():
    net = LSTMClassifier(max_epochs=1, class_weight={"hit": 3.0}, random_state=0)
    assert clone(net).class_weight == {"hit": 3.0}
    assert net.get_params()["class_weight"] == {"hit": 3.0}
    grid = GridSearchCV(
        LSTMClassifier(max_epochs=1, batch_size=8, train_split=None, random_state=0),
        {"class_weight": [None, "balanced"]}, cv=StratifiedKFold(2), scoring="balanced_accuracy",
    ).fit(X, Y)
    assert [p["class_weight"] for p in grid.cv_results_["params"]] == [None, "balanced"]
    best = grid.best_estimator_
    assert best.class_weight == grid.best_params_["class_weight"]


@pytest.mark.parametrize(
    "class_weight, message",
    [
        ("bal", "class_weight must be None, 'balanced' or a dict of label -> weight, got 'bal'"),
        (np.array([1.0, 2.0]), "class_weight must be None, 'balanced' or a dict of label -> weight, got array"),
        ({"viral": 2.0}, "class_weight names labels that are not in y: \\['viral'\\]; the labels are \\['flop', 'hit'\\]"),
        ({"hit": -1.0}, "class_weight must give finite, non-negative weights"),
    ],
)
def test_bad_class_weight_names_the_parameter(class_weight, message):
    with pytest.raises(ValueError, match=message):
        frozen(class_weight=class_weight).fit(X, Y)


def test_class_weight_and_criterion_weight_are_exclusive():
    with pytest.raises(ValueError, match="class_weight and criterion__weight are both set"):
        frozen(class_weight="balanced", criterion__weight=torch.ones(2)).fit(X, Y)
    # criterion__weight alone still works as in skorch
    net = frozen(criterion__weight=torch.tensor([1.0, 4.0])).fit(X, Y)
    assert net.history[-1, "train_loss"] == pytest.approx(cross_entropy(net, X, Y, [1.0, 4.0]), rel=1e-5)

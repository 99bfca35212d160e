"""The demo's plain-words verdict on its comparison."""

from __future__ import annotations

import pytest

from viral_sklearn.cli.demo import verdict


def row(model, auc, sd, fit=1.0):
    return {"model": model, "roc_auc_mean": auc, "roc_auc_std": sd, "fit_time_mean": fit}


DUMMY = row("dummy", 0.5, 0.0, 0.0)


@pytest.mark.parametrize("lstm, pooled, expect", [
    (0.90, 0.60, ["Winner: LSTM (ROC-AUC 0.900)", "0.300 ahead of the best pooled model", "reading the frames in order"]),
    (0.76, 0.78, ["Winner: pooled-mel logistic (ROC-AUC 0.780)", "are tied: 0.020 apart", "10x faster"]),
    (0.60, 0.80, ["Winner: pooled-mel logistic", "0.200 behind", "presence of a sound", "where the order matters"]),
])
def test_verdict_names_the_winner_and_why(lstm, pooled, expect):
    rows = [row("LSTM", lstm, 0.05, 2.0), row("LSTM, offset clip", lstm - 0.1, 0.05, 2.0),
            row("pooled-mel logistic", pooled, 0.04, 0.2), DUMMY]
    text = verdict(rows)
    for part in expect:
        assert part in text


def test_verdict_without_a_pooled_model_names_the_winner_only():
    assert verdict([row("LSTM", 0.7, 0.1), DUMMY]) == "Winner: LSTM (ROC-AUC 0.700)."

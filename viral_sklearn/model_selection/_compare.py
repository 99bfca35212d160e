"""compare_pipelines: several candidate pipelines under the same cross-validation splits."""

from __future__ import annotations

import time
from typing import Any, Mapping

import numpy as np

__all__ = ["DEFAULT_SCORING", "compare_pipelines", "song_steps"]

#: the scores of :func:`compare_pipelines` unless ``scoring`` says otherwise:
#: ROC-AUC, PR-AUC (average precision), macro-F1 and accuracy
DEFAULT_SCORING = ("roc_auc", "average_precision", "f1_macro", "accuracy")

#: parameters of a song step that change how it runs, never what it returns
_RUN_PARAMS = ("n_jobs", "memory", "verbose")


def song_steps(estimator) -> tuple[Any, Any]:
    """Split a candidate into its song steps and the rest.

    The song steps (:class:`~viral_sklearn.MonoMixer`,
    :class:`~viral_sklearn.ChorusExtractor`,
    :class:`~viral_sklearn.MelSpectrogramTransformer`, any ``SongTransformer``)
    learn nothing, so what they return for a song does not depend on the
    training fold: :func:`compare_pipelines` runs them once per song.

    Returns
    -------
    front : sklearn.pipeline.Pipeline or None
        The leading song steps of a Pipeline (None when it has none).
    rest : estimator
        What follows them: a Pipeline of the remaining steps, the single
        remaining step, or ``estimator`` itself when it has no song steps.
    """
    from sklearn.pipeline import Pipeline

    from ..audio._base import SongTransformer

    if not isinstance(estimator, Pipeline):
        return None, estimator
    k = 0
    for _, step in estimator.steps:
        if not isinstance(step, SongTransformer):
            break
        k += 1
    if k == 0:
        return None, estimator
    if k == len(estimator.steps):
        raise ValueError("a candidate holds only song steps: it needs a classifier after them")
    front = Pipeline(estimator.steps[:k])
    rest = estimator.steps[k][1] if k == len(estimator.steps) - 1 else Pipeline(estimator.steps[k:])
    return front, rest


def _front_key(front) -> str:
    """Song steps that give the same features have the same key."""
    parts = []
    for _, step in front.steps:
        params = {k: v for k, v in step.get_params(deep=False).items() if k not in _RUN_PARAMS}
        parts.append((type(step).__module__, type(step).__qualname__, sorted((k, repr(v)) for k, v in params.items())))
    return repr(parts)


def _splitter(cv, groups, random_state):
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds, got {cv}")
        if groups is not None:
            return StratifiedGroupKFold(int(cv), shuffle=True, random_state=random_state)
        return StratifiedKFold(int(cv), shuffle=True, random_state=random_state)
    return cv


def _check_splits(splits, groups, cv) -> None:
    """Refuse splits that put one group on both sides (a splitter that ignores groups)."""
    if groups is None:
        return
    for k, (train, test) in enumerate(splits):
        shared = set(groups[train].tolist()) & set(groups[test].tolist())
        if shared:
            example = sorted(map(str, shared))[:3]
            raise ValueError(
                f"cv={cv!r} put {len(shared)} groups in both the training and the test songs of fold {k} "
                f"(e.g. {example}): with groups, use a splitter that respects them, such as "
                f"StratifiedGroupKFold or GroupKFold (or pass cv as a number of folds)"
            )


def _song_count(X) -> int:
    from sklearn.utils.validation import _num_samples

    return _num_samples(X)


def compare_pipelines(
    candidates: Mapping[str, Any],
    X,
    y,
    *,
    groups=None,
    cv=5,
    scoring=DEFAULT_SCORING,
    dummy: str | None = "prior",
    memory=None,
    random_state=0,
    n_jobs: int | None = None,
    return_folds: bool = False,
    verbose: bool = False,
):
    """Cross-validate several candidates on the same splits; one row of scores each.

    Every candidate is fitted and scored on exactly the same folds, so their
    differences are differences of models, not of luck in the split.  The
    song steps of the candidates (mono, chorus, mel: they learn nothing) run
    once per song for all folds, and once for all candidates that share them
    (same classes and parameters): a candidate's cross-validation then fits
    and scores only its remaining steps on those features.  This gives the
    same scores as cross-validating the whole pipelines (each fold's
    pipeline would compute the same features for the same songs), without
    decoding a song per fold.

    Parameters
    ----------
    candidates : dict of str -> estimator
        Name -> pipeline (or any classifier of ``X``), in the order of the
        table.  Not modified: each fold fits a clone.
    X : list, array or Series of songs (paths, AudioClip), or an array
    y : array-like [shape=(n_songs,)]
        Binary labels for the default ``scoring`` (ROC-AUC and PR-AUC score
        the second label of the sorted labels, so use 0/1 or booleans, or pass
        scorers made with ``make_scorer(..., pos_label=...)``).
    groups : array-like [shape=(n_songs,)] or None, default=None
        The group of each song, e.g. its artist (``load_dataset(...,
        group_column="artist")``): no group is then ever on both sides of a
        split.  Splits that break this rule (a splitter that ignores groups)
        raise a ``ValueError``.
    cv : int, splitter or iterable of (train, test), default=5
        An int is the number of folds of a shuffled ``StratifiedKFold``, or
        with ``groups`` of a ``StratifiedGroupKFold`` (both stratified:
        every fold keeps the label ratio, as far as the groups allow), drawn
        with ``random_state``.  The splits are drawn once and used for every
        candidate.
    scoring : sequence of str or dict of str -> scorer, default=DEFAULT_SCORING
        scikit-learn scorer names (``"roc_auc"``, ``"average_precision"``
        (PR-AUC), ``"f1_macro"``, ``"accuracy"`` ...), or name -> scorer.
    dummy : str or None, default="prior"
        Add a row ``"dummy"``: ``DummyClassifier(strategy=dummy)``, the score
        of a model that ignores the songs ("prior": the training label
        frequencies, which gives a ROC-AUC of 0.5 and a PR-AUC equal to the
        positive rate).  ``None`` omits it.
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Per-song cache folder for the song steps (replacing their own
        ``memory``): a second comparison over the same songs decodes
        nothing.  ``None`` keeps each step's own setting.
    random_state : int or None, default=0
        Seeds the folds when ``cv`` is an int.
    n_jobs : int or None, default=None
        Folds fitted in parallel (``cross_validate``'s ``n_jobs``).
    return_folds : bool, default=False
        Also return the score of every candidate on every fold.
    verbose : bool, default=False
        Print what is being done.

    Returns
    -------
    results : pandas.DataFrame
        One row per candidate (then the dummy): ``model``; for each score
        ``<score>_mean`` and ``<score>_std`` over the folds; ``fit_time_mean``
        and ``fit_time_std`` (seconds to fit the steps after the song steps
        in one fold); ``features_time`` (seconds the candidate's song steps
        took over all songs, shared by the candidates that share them, 0.0 for
        those reusing features already computed in the same call).
    folds : pandas.DataFrame
        With ``return_folds=True``: one row per candidate and fold:
        ``model``, ``fold``, ``n_train``, ``n_test``, each score, ``fit_time``
        and ``score_time``.

    See Also
    --------
    viral_sklearn.plotting.plot_comparison : draw the table.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from viral_sklearn import PooledMelTransformer
    >>> from viral_sklearn.model_selection import compare_pipelines
    >>> rng = np.random.RandomState(0)
    >>> y = np.array([0, 1] * 20)
    >>> X = rng.randn(40, 10, 4).astype(np.float32) + y[:, None, None]  # 40 "spectrograms"
    >>> table = compare_pipelines(
    ...     {"pooled logistic": make_pipeline(PooledMelTransformer(), LogisticRegression())}, X, y, cv=4)
    >>> table[["model", "roc_auc_mean", "accuracy_mean"]]
                 model  roc_auc_mean  accuracy_mean
    0  pooled logistic           1.0            1.0
    1            dummy           0.5            0.5
    """
    import pandas as pd
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import check_cv, cross_validate

    if not isinstance(candidates, Mapping) or not candidates:
        raise ValueError("candidates must be a non-empty dict of name -> pipeline")
    names = list(candidates)
    if any(not isinstance(n, str) for n in names):
        raise ValueError(f"candidate names must be strings, got {names!r}")
    if dummy is not None and "dummy" in candidates:
        raise ValueError("a candidate is named 'dummy', the name of the dummy row: rename it or pass dummy=None")
    y = np.asarray(y)
    n = _song_count(X)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"y must be 1-D with one label per song: {n} songs, y has shape {y.shape}")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"groups must be 1-D with one group per song: {n} songs, groups has shape {groups.shape}")
    if isinstance(scoring, str):
        scoring = (scoring,)
    scoring = dict(scoring) if isinstance(scoring, Mapping) else {s: s for s in scoring}
    say = print if verbose else (lambda *a, **k: None)

    splitter = _splitter(cv, groups, random_state)
    splitter = check_cv(splitter, y, classifier=True)
    splits = list(splitter.split(np.zeros((n, 1)), y, groups))
    _check_splits(splits, groups, cv)

    features: dict[str, Any] = {}  # front key -> feature array
    rows, fold_rows = [], []
    jobs = [(name, candidates[name]) for name in names]
    if dummy is not None:
        jobs.append(("dummy", DummyClassifier(strategy=dummy)))
    for i, (name, estimator) in enumerate(jobs, 1):
        front, rest = song_steps(estimator)
        features_time = 0.0
        if front is None:
            # the dummy ignores its input: no need to hand it the songs
            data = np.zeros((n, 1)) if dummy is not None and name == "dummy" else X
        else:
            key = _front_key(front)
            if key not in features:
                front = clone(front)
                if memory is not None:
                    front.set_params(**{f"{step_name}__memory": memory for step_name, step in front.steps
                                        if "memory" in step.get_params(deep=False)})
                say(f"[{i}/{len(jobs)}] {name}: song features of {n} songs ...")
                t = time.perf_counter()
                features[key] = front.fit_transform(X, y)
                features_time = time.perf_counter() - t
            data = features[key]
        say(f"[{i}/{len(jobs)}] {name}: {len(splits)} folds ...")
        res = cross_validate(clone(rest), data, y, cv=splits, scoring=scoring, n_jobs=n_jobs,
                             error_score="raise")
        row = {"model": name}
        for s in scoring:
            row[f"{s}_mean"] = float(np.mean(res[f"test_{s}"]))
            row[f"{s}_std"] = float(np.std(res[f"test_{s}"]))
        row["fit_time_mean"] = float(np.mean(res["fit_time"]))
        row["fit_time_std"] = float(np.std(res["fit_time"]))
        row["features_time"] = float(features_time)
        rows.append(row)
        for k, (train, test) in enumerate(splits):
            fold_rows.append({
                "model": name, "fold": k, "n_train": len(train), "n_test": len(test),
                **{s: float(res[f"test_{s}"][k]) for s in scoring},
                "fit_time": float(res["fit_time"][k]), "score_time": float(res["score_time"][k]),
            })
    table = pd.DataFrame(rows)
    if return_folds:
        return table, pd.DataFrame(fold_rows)
    return table

"""Model selection for songs: compare candidate pipelines under the same splits.

* :func:`compare_pipelines` cross-validates several candidates (the LSTM
  pipeline, pooled-mel baselines, the same classifier on other clips ...) on
  the same folds, grouped by artist when asked, computing each song's
  features once, and returns one row of scores per candidate with a
  ``DummyClassifier`` row; :func:`viral_sklearn.plotting.plot_comparison`
  draws it.
* :func:`song_steps` splits a pipeline into the song steps, which learn
  nothing, and the rest.
"""

from ._compare import DEFAULT_SCORING, compare_pipelines, song_steps

__all__ = ["DEFAULT_SCORING", "compare_pipelines", "song_steps"]

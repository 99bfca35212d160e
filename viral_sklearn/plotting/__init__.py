"""Plots of songs, spectrograms and classifier results (matplotlib, optional).

matplotlib is an optional dependency (``pip install 'viral-sklearn[plot]'``):
this module imports it only when a function is called, so ``import
viral_sklearn.plotting`` works without it.

Every function draws on ``ax`` when given, otherwise on a new
:class:`matplotlib.figure.Figure` that is *not* registered with pyplot (no GUI
window, nothing to close, nothing is shown): save it with
``ax.figure.savefig(path)``, or display ``ax.figure`` in a notebook.  Every
function returns the :class:`~matplotlib.axes.Axes` it drew on.

Functions
---------
plot_chorus
    Waveform of a song with the detected chorus window and the true choruses.
plot_mel
    A (time x mel) dB spectrogram, as :func:`viral_sklearn.mel_db` returns it.
plot_history
    Training curves of a skorch net (``net.history_``).
plot_roc, plot_precision_recall
    ROC and precision-recall curves of binary scores, with AUC / AP.
plot_confusion_matrix
    Confusion matrix with annotated counts.
plot_comparison
    Scores of candidate models, as :func:`viral_sklearn.model_selection.compare_pipelines`
    returns them, with their spread over the folds and the dummy's level.
"""

from ._evaluation import plot_comparison, plot_confusion_matrix, plot_precision_recall, plot_roc
from ._signals import plot_chorus, plot_mel
from ._training import plot_history

__all__ = [
    "plot_chorus",
    "plot_mel",
    "plot_history",
    "plot_roc",
    "plot_precision_recall",
    "plot_confusion_matrix",
    "plot_comparison",
]

"""Plots of a song and its spectrogram: the waveform with its chorus, the mel in dB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import numpy as np

from ._checks import _ENVELOPE_BUCKETS, _DETECTED_COLOR, _TRUE_COLOR, _get_axes, _check_real, _check_positive_int, _envelope, _check_window

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ['plot_chorus', 'plot_mel']


def plot_chorus(
    y,
    sr,
    *,
    chorus_start,
    clip_length,
    true_choruses: Iterable[tuple[float, float]] | None = None,
    title: str | None = None,
    ax=None,
) -> "Axes":
    """Waveform of a song, its detected chorus window and its true choruses.

    Long signals are drawn as a min/max envelope over about 2000 buckets of
    samples, so a whole song plots in milliseconds and looks the same.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono samples (mix stereo first, e.g. ``y.mean(axis=0)``).
    sr : int or float
        Sample rate of ``y`` in Hz.
    chorus_start : float
        Start of the detected chorus window, seconds from the start of ``y``
        (``ChorusExtractor(output="times")`` gives it).
    clip_length : float
        Length of the window in seconds: the span drawn is
        ``(chorus_start, chorus_start + clip_length)``.
    true_choruses : sequence of (start, end) pairs in seconds, optional
        The annotated chorus occurrences, drawn as hatched spans.
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        x is time in seconds and covers the whole song.  The detected window
        is the patch with gid ``"detected-chorus"``, the true choruses the
        patches with gid ``"true-chorus"``.

    Raises
    ------
    ValueError
        ``y`` not 1-D, empty or not finite; ``sr`` or ``clip_length`` not
        positive; a window that ends before it starts or starts after the
        end of the song.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(
            f"y must be mono, shape (n,), got shape {arr.shape}; mix the channels first "
            "(e.g. y.mean(axis=0), or MonoMixer)"
        )
    if arr.size == 0:
        raise ValueError("y is empty")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"y must be numeric, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("y contains NaN or inf")
    sr = _check_real("sr", sr, positive=True)
    clip_length = _check_real("clip_length", clip_length, positive=True)
    chorus_start = _check_real("chorus_start", chorus_start, nonnegative=True)
    duration = arr.size / sr
    detected = _check_window("the detected chorus", chorus_start, chorus_start + clip_length, duration)
    truths = []
    if true_choruses is not None:
        for i, pair in enumerate(true_choruses):
            try:
                start, end = pair
            except (TypeError, ValueError):
                raise ValueError(
                    f"true_choruses[{i}] must be a (start, end) pair in seconds, got {pair!r}"
                ) from None
            truths.append(_check_window(f"true_choruses[{i}]", start, end, duration))

    ax = _get_axes(ax, (10, 3))
    # waveform underneath, the detected window tinting it, the true choruses on top
    wave_kw = dict(color="tab:blue", linewidth=0.6, label="waveform", zorder=1)
    if arr.size > 2 * _ENVELOPE_BUCKETS:
        t, lo, hi = _envelope(arr, sr, _ENVELOPE_BUCKETS)
        ax.fill_between(t, lo, hi, step="mid", **wave_kw)
    else:
        ax.plot(np.arange(arr.size) / sr, arr, **wave_kw)

    # the detected window: a light band behind the waveform with a solid outline in
    # front of it, so what the legend shows (band and outline) is what the plot shows
    # (a translucent band over the blue waveform would show a third colour)
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

    span = ax.axvspan(
        *detected, facecolor=to_rgba(_DETECTED_COLOR, 0.3), edgecolor="none", zorder=0,
        label="detected chorus",
    )
    span.set_gid("detected-chorus")
    outline = ax.axvspan(*detected, facecolor="none", edgecolor=_DETECTED_COLOR, linewidth=2.0, zorder=4)
    outline.set_gid("detected-chorus-outline")
    handles = [Patch(facecolor=to_rgba(_DETECTED_COLOR, 0.3), edgecolor=_DETECTED_COLOR, linewidth=2.0,
                     label="detected chorus")]
    for i, (start, end) in enumerate(truths):
        patch = ax.axvspan(
            start, end, facecolor="none", edgecolor=_TRUE_COLOR, hatch="//", linewidth=1.5,
            label="true chorus" if i == 0 else "_nolegend_", zorder=3,
        )
        patch.set_gid("true-chorus")

    ends = [duration, detected[1]] + [end for _, end in truths]
    ax.set_xlim(0.0, max(ends))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title is not None:
        ax.set_title(title)
    # outside, right of the axes: a legend inside would hide the song
    # the waveform, then the first true chorus (the band's own entry is replaced by band + outline)
    labelled = [h for h in ax.get_legend_handles_labels()[0] if h is not span]
    ax.legend(handles=labelled[:1] + handles + labelled[1:], loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0, fontsize="small")
    return ax


def plot_mel(S_db, *, sr, hop_length, title: str | None = None, ax=None, colorbar: bool = True) -> "Axes":
    """A mel spectrogram in dB, time on x, mel band on y.

    Parameters
    ----------
    S_db : np.ndarray [shape=(n_frames, n_mels)]
        The library's orientation, time x mel (as :func:`viral_sklearn.mel_db`
        and ``MelSpectrogramTransformer`` return it); librosa's
        ``(n_mels, n_frames)`` must be transposed first.
    sr : int or float
        Sample rate of the audio, Hz.
    hop_length : int
        Samples between frames.
    title : str, optional
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    colorbar : bool, default=True
        Add a colorbar in dB (``"%+2.0f dB"``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        Holds one image of ``S_db.T`` (origin lower); frame ``i`` spans
        ``[i, i + 1) * hop_length / sr`` seconds, band ``j`` is centred on ``j``.

    Raises
    ------
    ValueError
        ``S_db`` not 2-D, empty or not finite; ``sr`` or ``hop_length`` not
        positive.
    """
    S = np.asarray(S_db)
    if S.ndim != 2:
        raise ValueError(f"S_db must be 2-D (n_frames, n_mels), got shape {S.shape}")
    if S.size == 0:
        raise ValueError(f"S_db is empty, shape {S.shape}")
    if not np.issubdtype(S.dtype, np.number):
        raise ValueError(f"S_db must be numeric, got dtype {S.dtype}")
    if not np.all(np.isfinite(S)):
        raise ValueError("S_db contains NaN or inf")
    sr = _check_real("sr", sr, positive=True)
    hop_length = _check_positive_int("hop_length", hop_length)

    ax = _get_axes(ax, (8, 4))
    n_frames, n_mels = S.shape
    seconds = n_frames * hop_length / sr
    image = ax.imshow(
        S.T, origin="lower", aspect="auto", interpolation="nearest", cmap="magma",
        extent=(0.0, seconds, -0.5, n_mels - 0.5),
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, format="%+2.0f dB")
    return ax

"""What a model file may make ``predict`` allocate: its steps checked together.

Each parameter of a model file is bounded on its own (:mod:`._description`), but
the work of ``predict`` grows with their products: a mel step asking for an
hour of 96 kHz audio (every value within its own bound) would decode 345
million samples per song and take gigabytes.  So the steps are also checked
against each other, before anything is built, and a file whose products exceed
these bounds is refused with a :class:`ModelFormatError` naming the file:

* the samples of one window a step decodes (the mel step's ``duration x
  sample_rate``, the chorus step's ``clip_length x sample_rate``): at most
  :data:`MAX_WINDOW_SAMPLES`;
* one song's spectrogram, frames x bands, and its STFT, frames x frequency
  bins: at most :data:`MAX_FEATURE_CELLS` and :data:`MAX_STFT_CELLS`; the hop
  at least ``n_fft //`` :data:`MAX_OVERLAP` (and the window longer than
  ``n_fft // 2``, which the spectrogram needs);
* the network's work on one batch, ``batch_size x frames x hidden_size``: at
  most :data:`MAX_BATCH_CELLS` (``batch_size=-1``, the whole input in one
  batch, is refused with a mel step: it would grow with the number of songs);
* the chorus step's analysis rate (it decodes every song whole at that rate):
  at most :data:`MAX_CHORUS_SAMPLE_RATE`;
* the steps' order and shapes: a mel step is the last step before the
  classifier, and its ``n_mels`` is the network's ``input_size``.

With the bounds below one song costs ``predict`` at most about 1 GiB, whatever
the file says; the default pipeline uses under 2% of each size bound.
"""

from __future__ import annotations

from ._errors import ModelFormatError

__all__ = [
    "MAX_BATCH_CELLS",
    "MAX_CHORUS_SAMPLE_RATE",
    "MAX_FEATURE_CELLS",
    "MAX_OVERLAP",
    "MAX_STFT_CELLS",
    "MAX_WINDOW_SAMPLES",
    "check_bounds",
]

#: samples of one decoded window (2**25: 12.7 min at 44.1 kHz, 128 MiB of float32)
MAX_WINDOW_SAMPLES = 1 << 25
#: frames x mel bands of one song (2**24: 64 MiB of float32; the default is 141,184)
MAX_FEATURE_CELLS = 1 << 24
#: frames x frequency bins of one song's STFT (2**25: 256 MiB of complex64; the default is 443,406)
MAX_STFT_CELLS = 1 << 25
#: at most this many hops per FFT window (n_fft // hop_length; the default is 2)
MAX_OVERLAP = 32
#: batch_size x frames x hidden_size of one batch (2**27: 2 GiB of LSTM gates; the default is 2.3 million)
MAX_BATCH_CELLS = 1 << 27
#: the chorus step's analysis rate (it decodes each whole song at this rate; the default is 11,025)
MAX_CHORUS_SAMPLE_RATE = 48_000


def _error(path: str, reason: str) -> ModelFormatError:
    return ModelFormatError(f"{path!r}: {reason}")


def _mel_frames(path: str, where: str, p: dict) -> int:
    """Check a mel step's window, hop and sizes; its frames per song."""
    sample_rate, duration = p["sample_rate"], p["duration"]
    n_fft, hop, n_mels = p["n_fft"], p["hop_length"], p["n_mels"]
    samples = int(round(duration * sample_rate))
    if samples > MAX_WINDOW_SAMPLES:
        raise _error(path, f"{where}: duration={duration!r} s at sample_rate={sample_rate} Hz is {samples} samples "
                           f"per song, more than the {MAX_WINDOW_SAMPLES} a model file may ask for")
    if samples <= n_fft // 2:
        raise _error(path, f"{where}: duration={duration!r} s at sample_rate={sample_rate} Hz is {samples} "
                           f"samples, too few for n_fft={n_fft} (it needs more than {n_fft // 2})")
    if hop * MAX_OVERLAP < n_fft:
        raise _error(path, f"{where}: hop_length={hop} is less than n_fft / {MAX_OVERLAP} (n_fft={n_fft}); a model "
                           f"file may ask for at most {MAX_OVERLAP} hops per window")
    frames = 1 + (samples - n_fft % 2) // hop
    if frames * n_mels > MAX_FEATURE_CELLS:
        raise _error(path, f"{where}: {frames} frames x n_mels={n_mels} is {frames * n_mels} values per song, more "
                           f"than the {MAX_FEATURE_CELLS} a model file may ask for")
    bins = n_fft // 2 + 1
    if frames * bins > MAX_STFT_CELLS:
        raise _error(path, f"{where}: {frames} frames x {bins} frequency bins (n_fft={n_fft}) is {frames * bins} "
                           f"STFT values per song, more than the {MAX_STFT_CELLS} a model file may ask for")
    f_min, f_max = p["f_min"], p["f_max"]
    top = sample_rate / 2 if f_max is None else f_max
    if f_min >= top:
        raise _error(path, f"{where}: f_min={f_min!r} is not below f_max={top!r} Hz")
    return frames


def _chorus(path: str, where: str, p: dict) -> None:
    sample_rate, clip_length = p["sample_rate"], p["clip_length"]
    if sample_rate > MAX_CHORUS_SAMPLE_RATE:
        raise _error(path, f"{where}: sample_rate={sample_rate} is above {MAX_CHORUS_SAMPLE_RATE}, the highest "
                           "chorus analysis rate a model file may ask for (the step decodes every song whole at "
                           "that rate)")
    samples = int(round(clip_length * sample_rate))
    if samples > MAX_WINDOW_SAMPLES:
        raise _error(path, f"{where}: clip_length={clip_length!r} s at sample_rate={sample_rate} Hz is {samples} "
                           f"samples, more than the {MAX_WINDOW_SAMPLES} a model file may ask for")


def _with_defaults(spec) -> dict:
    """The step's parameters, the class's defaults for those the file leaves out."""
    return {**spec.cls().get_params(deep=False), **spec.params}


def check_bounds(path: str, specs: list, network: dict) -> None:
    """Refuse a model whose steps together would make ``predict`` allocate too much.

    Parameters
    ----------
    path : str
        The model file, for the messages.
    specs : list of StepSpec
        The checked steps (:func:`~._description.read_description`), the
        classifier last.
    network : dict
        The classifier's checked network (:func:`~._network.check_network`).

    Raises
    ------
    ModelFormatError
        A bound above exceeded, a mel step that is not the last song step, or
        its ``n_mels`` differing from the network's ``input_size``.
    """
    import inspect

    from .. import ChorusExtractor, LSTMModule, MelSpectrogramTransformer

    song_specs, clf_spec = specs[:-1], specs[-1]
    lstm = network is not None and "module" in network  # else the classifier is a scikit-learn step
    frames = None
    for i, spec in enumerate(song_specs):
        where = f"step {spec.name!r} ({getattr(spec.cls, '__name__', 'scikit-learn')})"
        if spec.cls is ChorusExtractor:
            _chorus(path, where, _with_defaults(spec))
        if spec.cls is not MelSpectrogramTransformer:
            continue
        params = _with_defaults(spec)
        frames = _mel_frames(path, where, params)
        if not lstm:
            continue
        if i != len(song_specs) - 1:
            raise _error(path, f"{where} is followed by step {song_specs[i + 1].name!r}: the mel spectrogram must be "
                               "the last step before the classifier")
        n_mels = params["n_mels"]
        if n_mels != network["module"]["input_size"]:
            raise _error(path, f"{where} makes n_mels={n_mels} bands per frame, but the network of step "
                               f"{clf_spec.name!r} takes input_size={network['module']['input_size']}")
    if frames is None or not lstm:
        return
    default_hidden = inspect.signature(LSTMModule).parameters["hidden_size"].default
    hidden = network["module"].get("hidden_size", default_hidden)
    batch = _with_defaults(clf_spec)["batch_size"]
    if batch == -1:
        raise _error(path, f"step {clf_spec.name!r}: batch_size=-1 (every song in one batch) would make prediction "
                           "memory grow with the number of songs; a model file must give a batch size")
    if batch * frames * hidden > MAX_BATCH_CELLS:
        raise _error(path, f"step {clf_spec.name!r}: batch_size={batch} x {frames} frames x hidden_size={hidden} is "
                           f"{batch * frames * hidden} values per batch, more than the {MAX_BATCH_CELLS} a model "
                           "file may ask for")

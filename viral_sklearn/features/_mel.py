"""MelSpectrogramTransformer: songs (chorus windows) to a (time x mel) dB array."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from .._runtime import check_device, limit_threads, resolve_device
from ..audio import AudioClip, load_audio
from ..audio._base import PER_SONG_CONSTRAINTS, SongTransformer

__all__ = ["MelSpectrogramTransformer", "mel_db"]


def mel_db(
    y: np.ndarray,
    sr: int,
    *,
    n_fft: int = 400,
    hop_length: int = 200,
    n_mels: int = 64,
    f_min: float = 0.0,
    f_max: float | None = None,
    top_db: float | None = 80.0,
    device=None,
) -> np.ndarray:
    """Mel spectrogram in dB of mono audio (torchaudio's transforms).

    Parameters
    ----------
    y : np.ndarray [shape=(n,), dtype=float32]
    sr : int
    device : str, torch.device or None, default=None
        Where to compute: None or ``"cpu"`` on the CPU, ``"cuda"`` (or
        ``"cuda:1"`` ...) on a GPU, ``"auto"`` on the GPU when torch sees one.
        The samples go to the device and the result comes back as numpy; the
        GPU result equals the CPU one within float32 rounding, not bit for
        bit (``tests/test_gpu.py`` allows 0.05 dB).

    Returns
    -------
    S_db : np.ndarray [shape=(1 + (n - n_fft % 2) // hop_length, n_mels), dtype=float32]
        Power mel spectrogram in dB (``10 log10``, floor 1e-10), clipped to
        ``top_db`` below its maximum.  Silence gives a constant -100 dB.
        Always finite: audio so loud (``|y|`` above ~1e17) that its float32
        power overflows is analysed in float64.

    Raises
    ------
    ValueError
        ``y`` is not 1-D real audio, is not finite, or has ``n_fft // 2``
        samples or fewer (centred frames are reflect-padded by ``n_fft // 2``);
        ``device`` is a GPU this process does not see.
    """
    import torch
    import torchaudio.transforms as T

    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"y must be mono audio of shape (n_samples,), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"y must hold real numbers, got dtype {arr.dtype}")
    if arr.shape[0] <= n_fft // 2:
        raise ValueError(
            f"y has {arr.shape[0]} samples; a mel spectrogram with n_fft={n_fft} needs more than "
            f"n_fft // 2 = {n_fft // 2}"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise ValueError("y contains non-finite samples (NaN or Inf)")

    dev = torch.device(resolve_device(device) or "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} asks for a GPU, but torch sees no CUDA device in this process")

    def run(dtype):
        mel = T.MelSpectrogram(
            sample_rate=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
            f_min=f_min, f_max=f_max, power=2.0,
        ).to(device=dev, dtype=dtype)
        to_db = T.AmplitudeToDB(stype="power", top_db=top_db)
        with torch.no_grad():
            return to_db(mel(torch.from_numpy(arr).to(device=dev, dtype=dtype)))

    spec = run(torch.float32)
    if not torch.isfinite(spec).all():
        # the power of very loud audio overflows float32 (inf, then inf * 0 = NaN
        # in the filter bank); in float64 its dB values are finite float32 numbers
        spec = run(torch.float64)
    return np.ascontiguousarray(spec.cpu().numpy().T, dtype=np.float32)


def _clip_mel(clip: AudioClip, *, sample_rate: int, duration: float, device: str = "cpu", **mel_params) -> np.ndarray:
    n_samples = int(round(duration * sample_rate))
    window = duration if clip.duration is None else min(clip.duration, duration)
    y, sr = load_audio(clip, sr=sample_rate, duration=window)
    y = y[:n_samples]
    if y.size < n_samples:  # short songs and windows at the end: pad with silence
        y = np.concatenate([y, np.zeros(n_samples - y.size, dtype=np.float32)])
    if resolve_device(device) != "cpu":
        return mel_db(y, sr, device=device, **mel_params)
    # one clip's mel is too small to share across threads: on a busy machine torch's
    # thread pool made it 30x slower (docs/performance.md)
    with limit_threads(1):
        return mel_db(y, sr, **mel_params)


class MelSpectrogramTransformer(SongTransformer):
    """Mel spectrogram in dB of each song's window, as one float32 array.

    Each song (usually the chorus window from
    :class:`~viral_sklearn.ChorusExtractor`) is decoded, only its window, at
    ``sample_rate``, mixed to mono, cut or padded with silence to exactly
    ``duration`` seconds, and turned into a power mel spectrogram in dB
    (torchaudio ``MelSpectrogram`` then ``AmplitudeToDB(top_db)``).  Every song
    thus has the same number of frames, ``1 + round(duration * sample_rate) //
    hop_length``: with the defaults 2206 frames of 64 bands for 20 s, the
    notebook's shape.

    Parameters
    ----------
    sample_rate : int, default=22050
    duration : float, default=20.0
        Seconds per song; longer windows are cut, shorter ones padded with
        silence (-100 dB frames before the ``top_db`` clip).
    n_fft : int, default=400
    hop_length : int, default=200
    n_mels : int, default=64
    f_min : float, default=0.0
    f_max : float or None, default=None
        ``None`` is ``sample_rate / 2``.
    top_db : float or None, default=80.0
        Dynamic range kept below each song's maximum.
    device : str, default="cpu"
        Where the spectrograms are computed: ``"cpu"``; ``"cuda"`` (or
        ``"cuda:<index>"``) on a GPU; ``"auto"``: the GPU when the process that
        computes them (a joblib or Dask worker included) sees one, else the CPU.
        Decoding stays on the CPU; the GPU result equals the CPU one within
        float32 rounding, not bit for bit, and the cache keys hold the device
        asked for.
    n_jobs : int or None, default=None
        Songs processed in parallel (joblib); results equal ``n_jobs=1``.
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Per-song cache (see :class:`~viral_sklearn.ChorusExtractor`).
    verbose : bool, default=False
        Show a progress bar.

    Examples
    --------
    >>> import numpy as np
    >>> from viral_sklearn import AudioClip, MelSpectrogramTransformer
    >>> song = AudioClip.from_array(np.zeros(22050, dtype=np.float32), 22050)
    >>> MelSpectrogramTransformer(duration=2.0).fit_transform([song]).shape
    (1, 221, 64)
    """

    _chains_songs = True

    _parameter_constraints: dict = {
        "sample_rate": [Interval(Integral, 1, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither")],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "f_min": [Interval(Real, 0, None, closed="left")],
        "f_max": [None, Interval(Real, 0, None, closed="neither")],
        "top_db": [None, Interval(Real, 0, None, closed="neither")],
        "device": [str],
        **PER_SONG_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        sample_rate=22050,
        duration=20.0,
        n_fft=400,
        hop_length=200,
        n_mels=64,
        f_min=0.0,
        f_max=None,
        top_db=80.0,
        device="cpu",
        n_jobs=None,
        memory=None,
        verbose=False,
    ):
        self.sample_rate = sample_rate
        self.duration = duration
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.f_min = f_min
        self.f_max = f_max
        self.top_db = top_db
        self.device = device
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose

    @property
    def n_frames(self) -> int:
        """Frames per song: ``1 + round(duration * sample_rate) // hop_length``
        (for an odd ``n_fft``, whose centred frames reach one sample less far,
        ``1 + (round(duration * sample_rate) - 1) // hop_length``)."""
        n_samples = int(round(self.duration * self.sample_rate))
        return 1 + (n_samples - self.n_fft % 2) // self.hop_length

    def transform(self, X):
        """Mel spectrogram in dB of every song.

        Parameters
        ----------
        X : list, array or Series of str, os.PathLike or AudioClip

        Returns
        -------
        S_db : np.ndarray [shape=(n_songs, n_frames, n_mels), dtype=float32]

        Raises
        ------
        SongErrors
            Lists every song that could not be decoded, with its reason.
        """
        clips = self._clips(X)
        check_device(self.device, owner=type(self).__name__)
        if int(round(self.duration * self.sample_rate)) <= self.n_fft // 2:  # see mel_db
            raise ValueError(
                f"duration={self.duration} s at sample_rate={self.sample_rate} Hz is "
                f"{int(round(self.duration * self.sample_rate))} samples; n_fft={self.n_fft} needs "
                f"more than {self.n_fft // 2}"
            )
        mel_params = dict(
            n_fft=int(self.n_fft), hop_length=int(self.hop_length), n_mels=int(self.n_mels),
            f_min=float(self.f_min), f_max=None if self.f_max is None else float(self.f_max),
            top_db=None if self.top_db is None else float(self.top_db),
        )
        # filled in place, song by song: no list of results next to the final array
        out = np.empty((len(clips), self.n_frames, int(self.n_mels)), dtype=np.float32)
        return self._map_songs(
            _clip_mel, clips, out=out, sample_rate=int(self.sample_rate), duration=float(self.duration),
            device=self.device, **mel_params,
        )

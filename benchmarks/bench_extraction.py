"""Feature extraction per song: our song steps vs the notebook's recipe vs a bare decode.

On ~3-minute stereo 44.1 kHz MP3s (synthetic, from ``make_songs``, written once
to a temporary folder), three ways to get from a file to a 20-s chorus mel
spectrogram are timed in the same run, song by song, best of ``--repeat``:

* notebook: ``torchaudio.load`` -> mean of channels ->
  ``pychorus.helpers.find_and_output_chorus(path, None, 20)`` (which decodes the
  file again with librosa; its print is silenced) -> 20 s from the chorus start
  -> ``torchaudio.transforms.MelSpectrogram(sr, n_mels=64)`` + ``AmplitudeToDB(top_db=80)``;
* ours: ``make_viral_pipeline()[:-1].transform([path])`` (MonoMixer,
  ChorusExtractor, MelSpectrogramTransformer; n_jobs=1, no cache);
* bare decode: ``soundfile.read(path, dtype="float32")`` (the floor: one decode).

Targets: ours >= 5x faster than the notebook, ours <= 2x a bare decode.  When a
target is missed (or with ``--profile always``) ours is profiled: cProfile's top
functions and a stage-by-stage timing.

Example::

    python benchmarks/bench_extraction.py                      # 5 songs, best of 3
    python benchmarks/bench_extraction.py --n-songs 10 --repeat 5
    python benchmarks/bench_extraction.py --torch-threads 1    # both recipes on 1 torch thread
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import warnings

import numpy as np

from _common import cached_songs, machine, quiet, table, verdict

TARGET_SPEEDUP = 5.0  # ours vs notebook, at least
TARGET_VS_DECODE = 2.0  # ours / bare decode, at most


# ----------------------------------------------------------------------
# The three ways
# ----------------------------------------------------------------------
def notebook(path: str, clip: float = 20.0):
    """The notebook's recipe; returns (mel dB tensor (n_mels, frames), chorus start or None)."""
    import pychorus.helpers
    import torchaudio
    import torchaudio.transforms as T

    waveform, sr = torchaudio.load(path)
    mono = waveform.mean(dim=0)
    with quiet():
        start = pychorus.helpers.find_and_output_chorus(path, None, clip)
    s = 0 if start is None else int(start * sr)  # the notebook crashed on None; use the start
    chorus = mono[s : s + int(clip * sr)]
    mel = T.MelSpectrogram(sr, n_mels=64)(chorus)
    return T.AmplitudeToDB(top_db=80)(mel), start


def make_ours(clip: float = 20.0):
    from viral_sklearn import make_viral_pipeline

    steps = make_viral_pipeline(clip_length=clip, n_jobs=1, memory=None)[:-1]

    def ours(path: str):
        return steps.transform([path])

    return ours, steps


def _mix_block_fast(block, mix, label):
    """Prototype of fix 1: the channel mean as a loop of vector adds (bit-equal to
    ``block.mean(axis=1, dtype=float32)`` for up to 7 channels)."""
    from viral_sklearn import _audio

    if isinstance(mix, str) and block.shape[1] in range(2, 8):
        out = block[:, 0].astype(np.float32, copy=True)
        for k in range(1, block.shape[1]):
            out += block[:, k]
        out /= np.float32(block.shape[1])
        return out
    return _ORIGINAL["mix"](block, mix, label) if _ORIGINAL else _audio._mix_block(block, mix, label)


_ORIGINAL: dict = {}


def _mel_db_one_thread(*args, **kwargs):
    """Prototype of fix 3: the per-song mel spectrogram on one torch thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _ORIGINAL["mel_db"](*args, **kwargs)
    finally:
        torch.set_num_threads(threads)


def _tuning_in_band_blocks(blocks, sr):
    S = np.concatenate(list(blocks), axis=1)
    return tuning_in_band(S, sr, 2 * (S.shape[0] - 1))


def make_fixed(ours):
    """``ours`` with fixes 1-3 monkeypatched in for the duration of each call."""
    from viral_sklearn import _audio, _chorus_algorithm, _mel

    if not hasattr(_chorus_algorithm, "_estimate_tuning"):
        return None
    _ORIGINAL.update(mix=_audio._mix_block, tuning=_chorus_algorithm._estimate_tuning, mel_db=_mel.mel_db)

    def fixed(path: str):
        _audio._mix_block = _mix_block_fast
        _chorus_algorithm._estimate_tuning = lambda blocks, sr: _tuning_in_band_blocks(blocks, sr)
        _mel.mel_db = _mel_db_one_thread
        try:
            return ours(path)
        finally:
            _audio._mix_block = _ORIGINAL["mix"]
            _chorus_algorithm._estimate_tuning = _ORIGINAL["tuning"]
            _mel.mel_db = _ORIGINAL["mel_db"]

    return fixed


def bare_decode(path: str):
    import soundfile as sf

    return sf.read(path, dtype="float32")


# ----------------------------------------------------------------------
# Profile of ours
# ----------------------------------------------------------------------
def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def tuning_in_band(S, sr, n_fft, fmin=150.0, fmax=4000.0, threshold=0.1, resolution=0.01, bins_per_octave=12):
    """``librosa.estimate_tuning(S=S, sr=sr)`` computed on the 150-4000 Hz bins only.

    A prototype of the fix proposed in docs/performance.md (not library code):
    librosa's ``piptrack`` interpolates and thresholds all ``1 + n_fft // 2``
    bins, then keeps the peaks in ``[fmin, fmax)``; with n_fft = 16384 at
    22050 Hz that band is bins 112-2972 of 8193.  Working on those bins plus one
    neighbour each side (the stencils' reach), with the per-frame maximum still
    taken over all bins, gives the same peaks, hence the same tuning.
    """
    import librosa
    from librosa.core.pitch import _parabolic_interpolation

    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    inside = np.flatnonzero((fmin <= freqs) & (freqs < min(fmax, sr / 2)))
    lo, hi = int(inside[0]), int(inside[-1]) + 1
    a, b = max(lo - 1, 0), min(hi + 1, S.shape[0])
    sub = S[a:b]
    ref = threshold * S.max(axis=0, keepdims=True)
    shift = _parabolic_interpolation(sub, axis=0)
    peak = librosa.util.localmax(sub * (sub > ref), axis=0)[lo - a : hi - a]
    r, c = np.nonzero(peak)
    rs = r + (lo - a)
    avg = np.gradient(sub, axis=0)
    pitches = (r + lo + shift[rs, c]) * float(sr) / n_fft
    mags = sub[rs, c] + 0.5 * avg[rs, c] * shift[rs, c]
    if pitches.size == 0:
        return 0.0
    return librosa.pitch_tuning(pitches[mags >= np.median(mags)], resolution=resolution,
                                bins_per_octave=bins_per_octave)


def stage_breakdown(path: str, clip: float, repeat: int) -> None:
    """Time each stage of ours on one song with the library's own functions."""
    import librosa
    import soundfile as sf

    from viral_sklearn._audio import AudioClip, _mix_block, _Resampler, load_audio
    from viral_sklearn._chorus_algorithm import chroma_features, find_chorus
    from viral_sklearn._mel import mel_db

    sr = 22050
    full = AudioClip(path=path, mix="mean")
    with sf.SoundFile(path) as f:
        native = f.samplerate
    block = sf.read(path, dtype="float32", always_2d=True)[0]
    mono = _mix_block(block, "mean", path)
    y, _ = load_audio(full, sr=sr)
    spec = np.abs(librosa.stft(y, n_fft=2**14))
    np.square(spec, out=spec)
    chroma = chroma_features(y, sr)
    total = y.size / sr
    start = find_chorus(chroma, total, clip) or 0.0
    window = full.replace(offset=start, duration=clip)
    yw, _ = load_audio(window, sr=sr)

    try:  # the library's own tuning estimate when it has one, else librosa's (what chroma_stft calls)
        from viral_sklearn._chorus_algorithm import _estimate_tuning

        def lib_tuning(S, rate):  # it takes blocks of frames
            return _estimate_tuning([S], rate)

        tuning_label = "_chorus_algorithm._estimate_tuning"
    except ImportError:
        def lib_tuning(S, rate):
            return librosa.estimate_tuning(S=S, sr=rate, bins_per_octave=12)

        tuning_label = "librosa.estimate_tuning (piptrack)"

    rows = [
        ("ChorusExtractor: load_audio(full song, sr=22050)", lambda: load_audio(full, sr=sr)),
        ("  of which sf.read (native, stereo, float32)", lambda: sf.read(path, dtype="float32", always_2d=True)),
        ("  of which _mix_block: block.mean(axis=1)", lambda: _mix_block(block, "mean", path)),
        ("  of which soxr resample 44.1k->22.05k", lambda: _Resampler(native, sr)(mono, last=True)),
        ("ChorusExtractor: chroma_features", lambda: chroma_features(y, sr)),
        ("  of which librosa.stft(n_fft=16384)", lambda: librosa.stft(y, n_fft=2**14)),
        (f"  of which {tuning_label}", lambda: lib_tuning(spec, sr)),
        ("ChorusExtractor: find_chorus", lambda: find_chorus(chroma, total, clip)),
        ("MelSpectrogramTransformer: load_audio(window)", lambda: load_audio(window, sr=sr)),
        ("MelSpectrogramTransformer: mel_db", lambda: mel_db(yw, sr)),
    ]
    print(f"\nStage breakdown of ours on {os.path.basename(path)} (best of {repeat}, ms):")
    out = [(label, f"{_best(fn, repeat) * 1e3:.1f}") for label, fn in rows]
    table(["stage", "ms"], out)

    # What the obvious fixes would give (not library code: measured here only).
    import torch

    two = block[:, 0] + block[:, 1]
    two *= np.float32(0.5)
    same = np.array_equal(two, mono)
    threads = torch.get_num_threads()

    def mel_one_thread():
        torch.set_num_threads(1)
        try:
            return mel_db(yw, sr)
        finally:
            torch.set_num_threads(threads)

    tuning_same = tuning_in_band(spec, sr, 2**14) == lib_tuning(spec, sr)
    what_if = [
        (f"estimate_tuning on the 150-4000 Hz bins only (same tuning: {tuning_same})",
         lambda: tuning_in_band(spec, sr, 2**14)),
        (f"block[:,0] + block[:,1], *0.5 (bit-equal to the mean: {same})",
         lambda: np.multiply(block[:, 0] + block[:, 1], np.float32(0.5))),
        (f"mel_db with torch.set_num_threads(1) (now {threads})", mel_one_thread),
    ]
    print("\nWhat-if (the fixes of docs/performance.md, measured on the same data, ms):")
    table(["alternative", "ms"], [(label, f"{_best(fn, repeat) * 1e3:.1f}") for label, fn in what_if])


def profile_ours(ours, paths, top: int) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for p in paths:
        ours(p)
    prof.disable()
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key)
        stats.print_stats(top)
        text = buf.getvalue()
        body = text[text.index("ncalls"):] if "ncalls" in text else text
        print(f"\ncProfile of ours over {len(paths)} song(s), top {top} by {key}:")
        print(body.rstrip())


# ----------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-songs", type=int, default=5, help="number of songs (default 5)")
    parser.add_argument("--duration", type=float, nargs=2, default=(170.0, 190.0), metavar=("MIN", "MAX"),
                        help="song length range in seconds (default 170 190)")
    parser.add_argument("--clip", type=float, default=20.0, help="chorus length in seconds (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per song and recipe, best kept (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch.set_num_threads for the whole run (default: torch's default)")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="profile ours when a target is missed (auto, default), always or never")
    parser.add_argument("--top", type=int, default=15, help="cProfile lines shown (default 15)")
    parser.add_argument("--what-if", action="store_true",
                        help="also time ours with fixes 1-3 of docs/performance.md monkeypatched in "
                             "(a prototype, labelled as such; the library is not changed)")
    args = parser.parse_args(argv)

    songs = cached_songs(args.n_songs, duration=tuple(args.duration), chorus_length=args.clip,
                         sample_rates=(44100,), seed=args.seed)
    paths = songs["paths"]

    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    warnings.filterwarnings("ignore", message="At least one mel filterbank has all zero values")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    ours, steps = make_ours(args.clip)
    methods = {"bare": bare_decode, "notebook": lambda p: notebook(p, args.clip), "ours": ours}
    fixed = make_fixed(ours) if args.what_if else None
    if args.what_if and fixed is None:
        print("--what-if: this library version has no _chorus_algorithm._estimate_tuning to patch; skipped")
    if fixed is not None:
        methods["fixed"] = fixed
        check = steps.transform(paths[:1]), fixed(paths[0])
        print(f"what-if: ours with fixes gives the same features bit for bit: {np.array_equal(*check)}")

    # Warm-up, not timed: imports, numba compilation, file cache.
    for fn in methods.values():
        fn(paths[0])

    print(f"Extraction per song: {len(paths)} synthetic stereo 44.1 kHz MP3s, clip {args.clip:g} s, "
          f"best of {args.repeat} per song")
    print(f"machine: {machine()}")
    best = {name: [float("inf")] * len(paths) for name in methods}
    nb_start = [None] * len(paths)
    order = list(methods)
    for rep in range(args.repeat):
        for i, p in enumerate(paths):
            for name in order[rep % len(order):] + order[: rep % len(order)]:  # rotate who goes first
                start = time.perf_counter()
                result = methods[name](p)
                seconds = time.perf_counter() - start
                best[name][i] = min(best[name][i], seconds)
                if name == "notebook":
                    nb_start[i] = result[1]

    # Not timed: the chorus each recipe kept, against the true chorus occurrences.
    our_windows = steps[:2].transform(paths)
    rows = []
    for i, p in enumerate(paths):
        b, n, o = best["bare"][i], best["notebook"][i], best["ours"][i]
        truth = songs["chorus_times"][i]
        ours_start = our_windows[i].offset
        rows.append([
            os.path.basename(p), f"{songs['durations'][i]:.0f}", f"{b:.3f}", f"{n:.3f}", f"{o:.3f}",
            f"{n / o:.2f}x", f"{o / b:.2f}x",
            "None" if nb_start[i] is None else f"{nb_start[i]:.1f}", f"{ours_start:.1f}",
            " ".join(f"{s:.0f}" for s, _ in truth),
        ])
    if fixed is not None:
        for i, row in enumerate(rows):
            f = best["fixed"][i]
            row[5:5] = [f"{f:.3f}", f"{best['notebook'][i] / f:.2f}x", f"{f / best['bare'][i]:.2f}x"]
    tb, tn, to = (float(np.sum(best[k])) for k in ("bare", "notebook", "ours"))
    k = len(paths)
    rows.append(["mean", "", f"{tb / k:.3f}", f"{tn / k:.3f}", f"{to / k:.3f}", f"{tn / to:.2f}x",
                 f"{to / tb:.2f}x", "", "", ""])
    headers = ["song", "len s", "bare s", "notebook s", "ours s", "nb/ours", "ours/bare",
               "nb chorus", "our chorus", "true choruses"]
    if fixed is not None:
        tf = float(np.sum(best["fixed"]))
        rows[-1][5:5] = [f"{tf / k:.3f}", f"{tn / tf:.2f}x", f"{tf / tb:.2f}x"]
        headers[5:5] = ["fixed s*", "nb/fixed", "fixed/bare"]
    print()
    table(headers, rows)
    if fixed is not None:
        print("* fixed: ours with fixes 1 (channel mean), 2 (in-band tuning) and 3 (mel on one torch "
              "thread) monkeypatched in; a prototype, not the library")
    speedup, vs_decode = tn / to, to / tb
    v1 = verdict(speedup, TARGET_SPEEDUP, higher_is_better=True)
    v2 = verdict(vs_decode, TARGET_VS_DECODE, higher_is_better=False)
    print(f"\nspeed-up of ours vs the notebook: {speedup:.2f}x  (target >= {TARGET_SPEEDUP:g}x: {v1}"
          + ("" if v1 == "MET" else f", {TARGET_SPEEDUP / speedup:.2f}x short") + ")")
    print(f"ours / bare decode:               {vs_decode:.2f}x  (target <= {TARGET_VS_DECODE:g}x: {v2}"
          + ("" if v2 == "MET" else f", {vs_decode / TARGET_VS_DECODE:.2f}x over") + ")")

    if args.profile == "always" or (args.profile == "auto" and "MISSED" in (v1, v2)):
        profile_ours(ours, paths, args.top)
        stage_breakdown(paths[0], args.clip, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Feature extraction per song: our song steps vs the notebook's recipe vs a bare decode.

On ~3-minute stereo 44.1 kHz MP3s (synthetic, from ``make_songs``, written once
to a temporary folder), the ways to get from a file to a 20-s chorus mel
spectrogram are timed in the same run, song by song, best of ``--repeat``, in
rotating order:

* notebook: ``torchaudio.load`` -> mean of channels ->
  ``pychorus.helpers.find_and_output_chorus(path, None, 20)`` (which decodes the
  file again with librosa; its print is silenced) -> 20 s from the chorus start
  -> ``torchaudio.transforms.MelSpectrogram(sr, n_mels=64)`` + ``AmplitudeToDB(top_db=80)``;
* ours: ``make_viral_pipeline()[:-1].transform([path])`` (MonoMixer,
  ChorusExtractor, MelSpectrogramTransformer with the library's defaults:
  the structure method, analysis at 11025 Hz; n_jobs=1, no cache);
* ours, pychorus: the same with ``chorus__method="pychorus"``, the notebook's
  algorithm (``--no-pychorus`` leaves it out): what the chorus step cost before
  the structure method became the default;
* bare decode: ``soundfile.read(path, dtype="float32")`` (the floor: one decode).

Wall time is the figure; the process CPU time of ours and of the bare decode
is printed too, so that no thread pool can hide work.

Targets (issue 22): ours >= 8x faster than the notebook, ours <= 1.3x a bare
decode.  When a target is missed (or with ``--profile always``) ours is
profiled: cProfile's top functions and a stage-by-stage timing.

``--real DIR`` takes real recordings instead of synthetic songs: the first
``--n-songs`` files under DIR of 3-4 minutes (``--duration``), encoded to MP3 once
(``_common.real_songs``; for example the game-music packages that
``build_chorus_corpus.py`` unpacks into ``<corpus>/sources/unpacked``).

The chorus start is checked in the same run: ours (the pipeline's chorus step,
which computes its features while it decodes and hands the decoded window to the
mel step) against the reference path (``load_audio`` of the whole song, then the
method on those samples: what the step did before the single-decode change),
and, for the songs recorded there, against the starts stored in
``results/extraction_chorus_starts.json`` (recorded before that change).

Example::

    python benchmarks/bench_extraction.py                      # 5 synthetic songs, best of 3
    python benchmarks/bench_extraction.py --real ~/chorus-corpus/sources/unpacked --n-songs 8
    python benchmarks/bench_extraction.py --profile always     # with the stage breakdown
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import warnings

import numpy as np

from _common import cached_songs, machine, quiet, real_songs, table, verdict

TARGET_SPEEDUP = 8.0  # ours vs notebook, at least
TARGET_VS_DECODE = 1.3  # ours / bare decode, at most
#: chorus starts recorded before the single-decode change (see the module notes)
STORED_STARTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "extraction_chorus_starts.json")


# ----------------------------------------------------------------------
# The ways
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


def make_ours(clip: float = 20.0, method: str | None = None):
    from viral_sklearn import make_viral_pipeline

    steps = make_viral_pipeline(clip_length=clip, n_jobs=1, memory=None)[:-1]
    if method is not None:
        steps.set_params(chorus__method=method)

    def ours(path: str):
        return steps.transform([path])

    return ours, steps


def bare_decode(path: str):
    import soundfile as sf

    return sf.read(path, dtype="float32")


def reference_starts(paths, chorus_step) -> list[float]:
    """The chorus start by the reference path: ``load_audio`` of the whole song,
    then the method on the samples (no feature stream, no kept window)."""
    from viral_sklearn.audio import AudioClip, load_audio
    from viral_sklearn.chorus._extractor import METHODS

    starts = []
    for p in paths:
        y, sr = load_audio(AudioClip(path=p, mix="mean"), sr=int(chorus_step.sample_rate))
        estimate = METHODS[chorus_step.method](y, sr, float(chorus_step.clip_length))
        starts.append(estimate.start)
    return starts


def stored_starts(paths, method: str) -> dict:
    """``{index: start}`` recorded before the change, for the songs (same name and size) stored."""
    try:
        with open(STORED_STARTS) as fh:
            songs = json.load(fh)["songs"]
    except OSError:
        return {}
    found = {}
    for i, p in enumerate(paths):
        row = songs.get(os.path.basename(p))
        if row is not None and row.get("bytes") == os.path.getsize(p) and method in row:
            found[i] = row[method][0]
    return found


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


def stage_breakdown(path: str, steps, clip: float, repeat: int) -> None:
    """Time each stage of ours on one song with the library's own functions,
    each as the pipeline runs it (the structure method's features with one BLAS
    thread, as it computes them; timed alone, with the caller's BLAS threads,
    they cost up to 5x more on a busy machine)."""
    import soundfile as sf

    from viral_sklearn.chorus import _chroma as ca
    from viral_sklearn.chorus._extractor import analyse_chorus
    from viral_sklearn.chorus._features import song_features
    from viral_sklearn.chorus._structure import _blas_controller
    from viral_sklearn.chorus._analysis import find_chorus_structure
    from viral_sklearn.audio import AudioClip, load_audio
    from viral_sklearn.audio._decode import _mix_block, _Resampler
    from viral_sklearn.features import mel_db

    chorus = steps.named_steps["chorus"]
    sr = int(chorus.sample_rate)
    mel_sr = int(steps.named_steps["mel"].sample_rate)
    full = AudioClip(path=path, mix="mean")
    with sf.SoundFile(path) as f:
        native = f.samplerate
    block = sf.read(path, dtype="float32", always_2d=True)[0]
    mono = _mix_block(block, "mean", path)
    y, _ = load_audio(full, sr=sr)
    kwargs = dict(clip_length=clip, sample_rate=sr, fallback=chorus.fallback, method=chorus.method)
    result, kept = analyse_chorus(full, keep_window=True, **kwargs)
    window = full.replace(offset=float(result[0]), duration=clip)
    yw, _ = load_audio(window, sr=mel_sr)

    def one_thread(fn):
        def run():
            with _blas_controller().limit(limits=1, user_api="blas"):
                return fn()
        return run

    rows = [
        ("bare decode: sf.read (native, stereo, float32)", lambda: sf.read(path, dtype="float32")),
        (f"load_audio(full song, sr={sr}) (one decode, read ahead when a core is free)",
         lambda: load_audio(full, sr=sr)),
        ("  of which _mix_block (channel mean)", lambda: _mix_block(block, "mean", path)),
        (f"  of which soxr resample {native}->{sr}", lambda: _Resampler(native, sr)(mono, last=True)),
        ("song_features (one BLAS thread)", one_thread(lambda: song_features(y, sr))),
        ("  of which the power spectrogram", lambda: [None for _ in ca._power_blocks(y, 4096)]),
        ("find_chorus_structure (features + analysis)", lambda: find_chorus_structure(y, sr, clip)),
        ("chorus step per song: analyse_chorus (decode, features streamed, analysis, window kept)",
         lambda: analyse_chorus(full, keep_window=True, **kwargs)),
        (f"mel step, window decoded again: load_audio(window, sr={mel_sr})",
         lambda: load_audio(window, sr=mel_sr)),
        (f"mel step, window kept: load_audio(window, sr={mel_sr})",
         lambda: load_audio(window.replace(decoded=kept), sr=mel_sr)),
        ("mel step: mel_db", lambda: mel_db(yw, mel_sr)),
    ]
    print(f"\nStage breakdown of ours on {os.path.basename(path)} (best of {repeat}, ms; "
          f"load average {os.getloadavg()[0]:.2f}):")
    table(["stage", "ms"], [(label, f"{_best(fn, repeat) * 1e3:.1f}") for label, fn in rows])


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
    parser.add_argument("--real", metavar="DIR", default=None,
                        help="real recordings under DIR (3-4 minutes, encoded to MP3 once) instead of synthetic songs")
    parser.add_argument("--duration", type=float, nargs=2, default=(170.0, 190.0), metavar=("MIN", "MAX"),
                        help="song length range in seconds (default 170 190)")
    parser.add_argument("--clip", type=float, default=20.0, help="chorus length in seconds (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per song and recipe, best kept (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch.set_num_threads for the whole run (default: torch's default)")
    parser.add_argument("--no-pychorus", dest="with_pychorus", action="store_false",
                        help="leave out ours with chorus__method='pychorus'")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="profile ours when a target is missed (auto, default), always or never")
    parser.add_argument("--top", type=int, default=15, help="cProfile lines shown (default 15)")
    args = parser.parse_args(argv)

    if args.real:
        duration = (180.0, 240.0) if tuple(args.duration) == (170.0, 190.0) else tuple(args.duration)
        songs = real_songs(args.n_songs, args.real, duration=duration)
        songs["chorus_times"] = [[] for _ in songs["paths"]]  # not known
    else:
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
    if args.with_pychorus:
        methods["ours-pychorus"], steps_pychorus = make_ours(args.clip, method="pychorus")

    # Warm-up, not timed: imports, numba compilation, file cache.
    for fn in methods.values():
        fn(paths[0])

    kind = "real (re-encoded from " + args.real + ")" if args.real else "synthetic stereo 44.1 kHz"
    print(f"Extraction per song: {len(paths)} {kind} MP3s, clip {args.clip:g} s, "
          f"best of {args.repeat} per song")
    print(f"machine: {machine()}")
    best = {name: [float("inf")] * len(paths) for name in methods}
    cpu = {name: [float("inf")] * len(paths) for name in methods}
    nb_start = [None] * len(paths)
    order = list(methods)
    for rep in range(args.repeat):
        for i, p in enumerate(paths):
            for name in order[rep % len(order):] + order[: rep % len(order)]:  # rotate who goes first
                start, start_cpu = time.perf_counter(), time.process_time()
                result = methods[name](p)
                seconds = time.perf_counter() - start
                cpu[name][i] = min(cpu[name][i], time.process_time() - start_cpu)
                best[name][i] = min(best[name][i], seconds)
                if name == "notebook":
                    nb_start[i] = result[1]

    # Not timed: the chorus each recipe kept, against the true chorus occurrences.
    our_windows = steps[:2].transform(paths)
    windows_pychorus = steps_pychorus[:2].transform(paths) if args.with_pychorus else None
    rows = []
    for i, p in enumerate(paths):
        b, n, o = best["bare"][i], best["notebook"][i], best["ours"][i]
        row = [os.path.basename(p), f"{songs['durations'][i]:.0f}", f"{b:.3f}", f"{n:.3f}", f"{o:.3f}",
               f"{n / o:.2f}x", f"{o / b:.2f}x", f"{cpu['ours'][i] / cpu['bare'][i]:.2f}x"]
        if args.with_pychorus:
            e = best["ours-pychorus"][i]
            row += [f"{e:.3f}", f"{n / e:.2f}x", f"{e / b:.2f}x"]
        row += ["None" if nb_start[i] is None else f"{nb_start[i]:.1f}", f"{our_windows[i].offset:.1f}"]
        if args.with_pychorus:
            row.append(f"{windows_pychorus[i].offset:.1f}")
        row.append(" ".join(f"{s:.0f}" for s, _ in songs["chorus_times"][i]))
        rows.append(row)
    total = {k: float(np.sum(v)) for k, v in best.items()}
    total_cpu = {k: float(np.sum(v)) for k, v in cpu.items()}
    k = len(paths)
    tb, tn, to = total["bare"], total["notebook"], total["ours"]
    mean = ["mean", "", f"{tb / k:.3f}", f"{tn / k:.3f}", f"{to / k:.3f}", f"{tn / to:.2f}x", f"{to / tb:.2f}x",
            f"{total_cpu['ours'] / total_cpu['bare']:.2f}x"]
    headers = ["song", "len s", "bare s", "notebook s", "ours s", "nb/ours", "ours/bare", "cpu ours/bare"]
    if args.with_pychorus:
        te = total["ours-pychorus"]
        mean += [f"{te / k:.3f}", f"{tn / te:.2f}x", f"{te / tb:.2f}x"]
        headers += ["pyc s", "nb/pyc", "pyc/bare"]
    mean += ["", ""] + ([""] if args.with_pychorus else []) + [""]
    headers += ["nb chorus", "our chorus"] + (["pyc chorus"] if args.with_pychorus else []) + ["true choruses"]
    ref = reference_starts(paths, steps.named_steps["chorus"])
    stored = stored_starts(paths, steps.named_steps["chorus"].method)
    for i, row in enumerate(rows):
        row += [f"{ref[i]:.1f}" if ref[i] is not None else "None",
                f"{stored[i]:.1f}" if i in stored else "-"]
    headers += ["ref chorus", "stored"]
    rows.append(mean + ["", ""])
    print()
    table(headers, rows)
    speedup, vs_decode = tn / to, to / tb
    v1 = verdict(speedup, TARGET_SPEEDUP, higher_is_better=True)
    v2 = verdict(vs_decode, TARGET_VS_DECODE, higher_is_better=False)
    print(f"\nspeed-up of ours vs the notebook: {speedup:.2f}x  (target >= {TARGET_SPEEDUP:g}x: {v1}"
          + ("" if v1 == "MET" else f", {TARGET_SPEEDUP / speedup:.2f}x short") + ")")
    print(f"ours / bare decode:               {vs_decode:.2f}x  (target <= {TARGET_VS_DECODE:g}x: {v2}"
          + ("" if v2 == "MET" else f", {vs_decode / TARGET_VS_DECODE:.2f}x over") + ")")
    print(f"CPU time, ours / bare decode:     {total_cpu['ours'] / total_cpu['bare']:.2f}x")
    if args.with_pychorus:
        te = total["ours-pychorus"]
        print(f"ours with chorus__method='pychorus': {tn / te:.2f}x faster than the notebook, "
              f"{te / tb:.2f}x a bare decode; the default (structure) costs {to / te:.2f}x it")
        same = sum(abs(a.offset - b) <= 0.5 for a, b in zip(windows_pychorus, nb_start) if b is not None)
        print(f"chorus start of chorus__method='pychorus' vs the notebook's within 0.5 s: {same}/{k} songs")

    ours_starts = [float(w.offset) for w in our_windows]
    same_ref = sum(r is not None and abs(o - r) < 1e-6 for o, r in zip(ours_starts, ref))
    print(f"chorus start of ours = the reference path's (load_audio, then the method): {same_ref}/{k} songs"
          + ("" if same_ref == k else "  <-- CHANGED"))
    if stored:
        same_stored = sum(abs(ours_starts[i] - v) < 1e-4 for i, v in stored.items())
        print(f"chorus start of ours = the start stored before the change ({os.path.basename(STORED_STARTS)}): "
              f"{same_stored}/{len(stored)} songs" + ("" if same_stored == len(stored) else "  <-- CHANGED"))
    kept = sum(w.decoded is not None for w in our_windows)
    print(f"songs whose chorus window came from the chorus step's decode (not decoded again): {kept}/{k}")

    if args.profile == "always" or (args.profile == "auto" and "MISSED" in (v1, v2)):
        profile_ours(ours, paths, args.top)
        stage_breakdown(paths[0], steps, args.clip, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())

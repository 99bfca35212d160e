"""Peak memory of chorus + mel extraction on one long (10-minute) stereo 44.1 kHz MP3.

Each case runs in a fresh Python process.  The process imports everything (numpy,
soundfile, torch, torchaudio, librosa, pychorus, viral_sklearn), runs the case
once on a short 30-s MP3 (lazy imports, numba compilation, filter banks: one-off
costs that do not grow with the song), then measures its RSS (``VmRSS``) as the
baseline right before the work, runs the work on the long song, and reports

* ``ru_maxrss - baseline`` (``resource.getrusage``): the peak the work added;
* ``VmHWM - baseline`` after resetting the high-water mark to the baseline
  (``/proc/self/clear_refs``): the same quantity, measured independently.
  ``ru_maxrss`` is a process-lifetime maximum: if the warm-up or the imports
  peaked higher than the work, it hides the work's peak, and the
  ``prior peak`` column says so.

Cases: ours (``ChorusExtractor(clip_length=20).transform([path])`` then
``MelSpectrogramTransformer().transform(...)``; the default structure method,
the chorus analysed at 11025 Hz), ours-pychorus (the same with
``ChorusExtractor(method="pychorus")``, the notebook's algorithm), the notebook's recipe (``torchaudio.load``, mean,
``pychorus.helpers.find_and_output_chorus``, crop, torchaudio mel + dB), and a
bare ``soundfile.read(path, dtype="float32")``.  A last run measures each stage
of ours separately (``--no-stages`` skips it).

Target: ours <= 200 MB above the baseline (MB = 10**6 bytes; MiB also shown).

Example::

    python benchmarks/bench_memory.py               # 10-minute song
    python benchmarks/bench_memory.py --minutes 5 --no-stages
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from _common import cached_songs, machine, reset_peak_rss, rss_bytes, table

TARGET_MB = 200.0
MB = 1e6
MIB = 2.0**20
CASES = ("bare", "ours", "ours-pychorus", "notebook")


# ----------------------------------------------------------------------
# Child side
# ----------------------------------------------------------------------
def _imports():
    import warnings

    warnings.filterwarnings("ignore")
    import numpy  # noqa: F401
    import soundfile  # noqa: F401
    import torch  # noqa: F401
    import torchaudio  # noqa: F401
    import torchaudio.transforms  # noqa: F401
    import librosa  # noqa: F401
    import librosa.feature  # noqa: F401
    import pychorus.helpers  # noqa: F401

    import viral_sklearn  # noqa: F401


def _work(case: str, path: str, clip: float):
    if case == "bare":
        import soundfile as sf

        return sf.read(path, dtype="float32")
    if case in ("ours", "ours-pychorus"):
        from viral_sklearn import ChorusExtractor, MelSpectrogramTransformer

        method = {"method": "pychorus"} if case == "ours-pychorus" else {}
        clips = ChorusExtractor(clip_length=clip, **method).transform([path])
        return MelSpectrogramTransformer(duration=clip).transform(clips)
    if case == "notebook":
        import contextlib
        import io

        import pychorus.helpers
        import torchaudio
        import torchaudio.transforms as T

        waveform, sr = torchaudio.load(path)
        mono = waveform.mean(dim=0)
        with contextlib.redirect_stdout(io.StringIO()):
            start = pychorus.helpers.find_and_output_chorus(path, None, clip)
        s = 0 if start is None else int(start * sr)
        mel = T.MelSpectrogram(sr, n_mels=64)(mono[s : s + int(clip * sr)])
        return T.AmplitudeToDB(top_db=80)(mel)
    raise ValueError(case)


def _write_warmup(folder: str) -> str:
    """A 30-s stereo 44.1 kHz MP3 of tones and noise, for the warm-up run."""
    import numpy as np
    import soundfile as sf

    sr = 44100
    t = np.arange(30 * sr) / sr
    rng = np.random.default_rng(0)
    tone = 0.3 * np.sin(2 * np.pi * 220 * t * (1 + (t // 5) % 3 / 4))
    y = np.stack([tone, tone], axis=1) + 0.01 * rng.standard_normal((t.size, 2))
    path = os.path.join(folder, "warmup.mp3")
    sf.write(path, y.astype(np.float32), sr, format="MP3", subtype="MPEG_LAYER_III")
    return path


def child(case: str, path: str, clip: float) -> None:
    _imports()
    with tempfile.TemporaryDirectory() as tmp:
        warm = _write_warmup(tmp)
        if case == "stages":
            _stages(path, warm, clip)
            return
        _work(case, warm, min(clip, 10.0))
    baseline = rss_bytes("VmRSS")
    prior = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    reset = reset_peak_rss()
    start = time.perf_counter()
    result = _work(case, path, clip)
    seconds = time.perf_counter() - start
    peak_ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    hwm = rss_bytes("VmHWM") if reset else None
    del result
    print(json.dumps({"case": case, "baseline": baseline, "prior_peak": prior, "ru_maxrss": peak_ru,
                      "vmhwm": hwm, "seconds": seconds}))


def _stages(path: str, warm: str, clip: float) -> None:
    """Peak added by each stage of ours, each from a fresh high-water mark."""
    import gc

    import soundfile as sf

    from viral_sklearn import ChorusExtractor, MelSpectrogramTransformer
    from viral_sklearn.audio import AudioClip, load_audio
    from viral_sklearn.chorus._features import song_features
    from viral_sklearn.chorus import chroma_features, find_chorus
    from viral_sklearn.chorus._structure import analyse_structure
    from viral_sklearn.features._mel import _clip_mel

    _work("ours", warm, 10.0)
    sr = ChorusExtractor().sample_rate
    mel_sr = MelSpectrogramTransformer().sample_rate
    clip_ref = AudioClip(path=path, mix="mean")
    state: dict = {}

    def decode():
        state["y"] = load_audio(clip_ref, sr=sr)[0]

    def features():
        state["features"] = song_features(state["y"], sr)

    def structure():
        state["start"] = analyse_structure(state["features"], clip)[0] or 0.0

    def chroma():
        state["chroma"] = chroma_features(state["y"], sr)

    def lines():
        find_chorus(state["chroma"], state["y"].size / sr, clip)

    def mel():
        window = clip_ref.replace(offset=state["start"], duration=clip)
        state["mel"] = _clip_mel(window, sample_rate=mel_sr, duration=clip)

    rows = []
    for label, fn in [(f"load_audio(full song, sr={sr})", decode),
                      ("structure (default): song_features", features),
                      ("structure (default): analyse_structure", structure),
                      ("pychorus method: chroma_features", chroma), ("pychorus method: find_chorus", lines),
                      (f"mel step (window decode at {mel_sr} Hz + mel_db)", mel)]:
        gc.collect()
        base = rss_bytes("VmRSS")
        reset_peak_rss()
        start = time.perf_counter()
        fn()
        rows.append({"stage": label, "peak": rss_bytes("VmHWM") - base, "seconds": time.perf_counter() - start})
    info = sf.info(path)
    print(json.dumps({"stages": rows, "frames": info.frames, "channels": info.channels,
                      "samplerate": info.samplerate, "chroma_frames": int(state["chroma"].shape[1])}))


# ----------------------------------------------------------------------
# Parent side
# ----------------------------------------------------------------------
def _run_child(args: list[str]) -> dict | None:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  child {args[1]} failed (exit {proc.returncode}):\n{proc.stderr.strip()[-1500:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the song (default 10)")
    parser.add_argument("--clip", type=float, default=20.0, help="chorus length in seconds (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-stages", action="store_true", help="skip the per-stage run of ours")
    parser.add_argument("--_child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--_make", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        case, path, clip = args._child
        child(case, path, float(clip))
        return 0
    spec = dict(duration=60.0 * args.minutes, chorus_length=args.clip, sample_rates=(44100,), seed=args.seed)
    if args._make:
        print(json.dumps(cached_songs(1, **spec)["paths"][0]))
        return 0

    # The song is written by a child too: this process stays small, so nothing of
    # its memory reaches the measuring processes through fork.
    made = subprocess.run([sys.executable, os.path.abspath(__file__), "--_make", "--minutes", str(args.minutes),
                           "--clip", str(args.clip), "--seed", str(args.seed)], capture_output=True, text=True)
    if made.returncode != 0:
        print(made.stderr)
        return 1
    path = json.loads(made.stdout.strip().splitlines()[-1])
    import soundfile as sf

    info = sf.info(path)
    print(f"Peak memory on a {info.frames / info.samplerate / 60:.1f}-minute {info.channels}-channel "
          f"{info.samplerate} Hz MP3 ({os.path.getsize(path) / MB:.1f} MB file), clip {args.clip:g} s, "
          f"fresh process per case")
    print(f"machine: {machine()}")
    stereo = info.frames * info.channels * 4
    print(f"for scale: the whole song as float32 is {stereo / MB:.0f} MB stereo at {info.samplerate} Hz, "
          f"{stereo / info.channels / MB:.0f} MB mono, {info.frames * 11025 / info.samplerate * 4 / MB:.0f} MB "
          f"mono at 11025 Hz")
    results = {}
    for case in CASES:
        r = _run_child(["--_child", case, path, str(args.clip)])
        if r is not None:
            results[case] = r
    rows = []
    for case, r in results.items():
        ru = r["ru_maxrss"] - r["baseline"]
        hwm = None if r["vmhwm"] is None else r["vmhwm"] - r["baseline"]
        prior = r["prior_peak"] - r["baseline"]
        masked = r["ru_maxrss"] <= r["prior_peak"]
        rows.append([case, f"{r['baseline'] / MB:.0f}", f"{ru / MB:.0f}" + (" (masked)" if masked else ""),
                     f"{ru / MIB:.0f}", "n/a" if hwm is None else f"{hwm / MB:.0f}", f"{prior / MB:.0f}",
                     f"{r['seconds']:.1f}"])
    print()
    table(["case", "baseline MB", "ru_maxrss-base MB", "MiB", "VmHWM-base MB", "prior peak-base MB", "time s"],
          rows)
    if "ours" in results:
        o = results["ours"]
        ours_mb = (o["ru_maxrss"] - o["baseline"]) / MB
        if o["vmhwm"] is not None:
            ours_mb = max(ours_mb, (o["vmhwm"] - o["baseline"]) / MB)
        ok = ours_mb <= TARGET_MB
        print(f"\nours: {ours_mb:.0f} MB above baseline (target <= {TARGET_MB:.0f} MB: "
              f"{'MET' if ok else 'MISSED'}; {ours_mb / TARGET_MB:.2f}x the target)")
        for other in ("notebook", "bare"):
            if other in results:
                r = results[other]
                mb = (r["ru_maxrss"] - r["baseline"]) / MB
                if r["vmhwm"] is not None:
                    mb = max(mb, (r["vmhwm"] - r["baseline"]) / MB)
                ratio = f"{ours_mb / mb:.2f}x" if mb > 0 else "-"
                print(f"ours / {other}: {ratio} ({ours_mb:.0f} MB vs {mb:.0f} MB)")
    if not args.no_stages:
        s = _run_child(["--_child", "stages", path, str(args.clip)])
        if s is not None:
            print(f"\nPeak added by each stage of ours (fresh high-water mark per stage; "
                  f"{s['chroma_frames']} chroma frames):")
            table(["stage", "peak MB", "time s"],
                  [[r["stage"], f"{r['peak'] / MB:.0f}", f"{r['seconds']:.2f}"] for r in s["stages"]])
            print("(a stage's peak is counted above the RSS before it, which holds the decoded song: "
                  "ours' total is about the decode's peak, or the song plus the largest later stage)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

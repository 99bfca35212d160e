"""Training throughput and mel spectrograms, CPU vs CUDA GPU, side by side.

* training: ``LSTMClassifier(device=...)`` fits ``--n`` random sequences of
  2206 x 64 (a 20-s chorus at the library's defaults) for ``--epochs`` epochs,
  after a one-epoch warm-up fit; songs per second of training, and seconds per
  epoch;
* prediction: ``predict_proba`` on the same songs, songs per second;
* mel: ``mel_db(y, 22050, device=...)`` on 20-s clips (the mel step's work per
  song, decoding excluded), clips per second.

Rows for the GPU are printed only where ``torch.cuda.is_available()``; the ratio
column is GPU / CPU.  The CPU rows use torch's own thread count.

Example::

    python benchmarks/bench_gpu.py                  # 256 songs, 3 epochs, 50 clips
    python benchmarks/bench_gpu.py --n 32 --epochs 1 --clips 4 --frames 200   # a smoke test
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import machine, table


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def training(device: str, n: int, frames: int, epochs: int) -> dict:
    import numpy as np

    from viral_sklearn import LSTMClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(n, frames, 64).astype(np.float32)
    y = np.arange(n) % 2
    LSTMClassifier(max_epochs=1, random_state=0, device=device, train_split=None).fit(X[:32], y[:32])  # warm-up
    _sync(device)
    start = time.perf_counter()
    clf = LSTMClassifier(max_epochs=epochs, random_state=0, device=device, train_split=None).fit(X, y)
    _sync(device)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    clf.predict_proba(X)
    predict = time.perf_counter() - start
    return {"fit_songs_per_s": n * epochs / fit, "s_per_epoch": fit / epochs, "predict_songs_per_s": n / predict}


def mel(device: str, clips: int) -> float:
    import numpy as np

    from viral_sklearn import mel_db

    rng = np.random.default_rng(0)
    ys = [(0.3 * rng.standard_normal(20 * 22050)).astype(np.float32) for _ in range(min(clips, 8))]
    mel_db(ys[0], 22050, device=device)  # warm-up
    _sync(device)
    start = time.perf_counter()
    for k in range(clips):
        mel_db(ys[k % len(ys)], 22050, device=device)
    _sync(device)
    return clips / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=256, help="training songs (default 256)")
    parser.add_argument("--frames", type=int, default=2206, help="frames per song (default 2206: 20 s)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--clips", type=int, default=50, help="20-s clips for the mel timing (default 50)")
    args = parser.parse_args(argv)

    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"LSTMClassifier on {args.n} x {args.frames} x 64, {args.epochs} epochs, batch 16; mel_db on 20-s clips")
    print(f"machine: {machine()}")
    if len(devices) == 2:
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    else:
        print("no CUDA device: GPU rows skipped")
    train = {d: training(d, args.n, args.frames, args.epochs) for d in devices}
    mels = {d: mel(d, args.clips) for d in devices}

    def row(label, values, fmt):
        cells = [label] + [fmt.format(values[d]) for d in devices]
        if len(devices) == 2:
            cells.append(f"{values['cuda'] / values['cpu']:.1f}x")
        return cells

    rows = [
        row("training, songs/s", {d: train[d]["fit_songs_per_s"] for d in devices}, "{:.1f}"),
        row("prediction, songs/s", {d: train[d]["predict_songs_per_s"] for d in devices}, "{:.1f}"),
        row("mel_db, 20-s clips/s", mels, "{:.1f}"),
    ]
    print()
    table(["", *devices] + (["GPU / CPU"] if len(devices) == 2 else []), rows)
    print("\nseconds per epoch: " + ", ".join(f"{d} {train[d]['s_per_epoch']:.2f}" for d in devices))
    return 0


if __name__ == "__main__":
    sys.exit(main())

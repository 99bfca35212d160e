"""Training throughput: LSTMClassifier (skorch) vs a bare PyTorch loop on the same module.

Same data (``(n, frames, n_mels)`` float32 from a seeded generator, balanced
0/1 labels), same :class:`viral_sklearn.LSTMModule`, Adam, CrossEntropyLoss,
batch size, epochs and ``torch.set_num_threads``; each run builds its model and
optimizer and trains from ``torch.manual_seed(0)``.  The bare loop uses a
``DataLoader(TensorDataset, shuffle=True)`` and reads ``loss.item()`` per batch
(as any loop that logs its loss does).

Rows (the runs of one repetition are interleaved, in rotating order; median of
``--repeat``):

* bare PyTorch loop (shuffled batches);
* ``LSTMClassifier(train_split=None, verbose=0)``: the library's defaults, which
  shuffle the training batches (``iterator_train__shuffle=True``), like for like
  with the bare loop;
* ``LSTMClassifier(train_split=None, verbose=0, iterator_train__shuffle=False)``:
  skorch's own default, batches in order (for reference).

Target: skorch's overhead over the bare loop <= 10% (time, like for like).

Example::

    python benchmarks/bench_training.py                         # 256 x 400 x 64, 3 epochs
    python benchmarks/bench_training.py --n 512 --frames 2206 --epochs 2 --threads 1
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time

import numpy as np

from _common import machine, median, table

TARGET_OVERHEAD = 0.10


def make_data(n: int, frames: int, n_mels: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, frames, n_mels), dtype=np.float32)
    y = np.arange(n) % 2
    return X, y.astype(np.int64)


def bare_loop(X, y, *, hidden: int, lr: float, batch_size: int, epochs: int) -> float:
    """Train with plain PyTorch; returns the mean loss of the last epoch."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from viral_sklearn import LSTMModule

    torch.manual_seed(0)
    model = LSTMModule(X.shape[-1], hidden_size=hidden, n_classes=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = torch.nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=batch_size, shuffle=True)
    model.train()
    last = 0.0
    for _ in range(epochs):
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
        last = total / count
    return last


def skorch_fit(X, y, *, hidden: int, lr: float, batch_size: int, epochs: int, shuffle: bool):
    from viral_sklearn import LSTMClassifier

    kwargs = {} if shuffle else {"iterator_train__shuffle": False}  # the library shuffles by default
    clf = LSTMClassifier(train_split=None, verbose=0, max_epochs=epochs, batch_size=batch_size, lr=lr,
                         module__hidden_size=hidden, random_state=0, **kwargs)
    clf.fit(X, y)
    return clf


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=256, help="samples (default 256)")
    parser.add_argument("--frames", type=int, default=400, help="time steps per sample (default 400)")
    parser.add_argument("--n-mels", type=int, default=64, help="features per step (default 64)")
    parser.add_argument("--hidden", type=int, default=64, help="LSTM hidden size (default 64)")
    parser.add_argument("--batch-size", type=int, default=16, help="batch size (default 16, the library's)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--repeat", type=int, default=5, help="runs per variant, median kept (default 5)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for every run (default: torch's default)")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="cProfile the skorch fit when the target is missed (auto, default)")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    X, y = make_data(args.n, args.frames, args.n_mels)
    kw = dict(hidden=args.hidden, lr=args.lr, batch_size=args.batch_size, epochs=args.epochs)
    variants = {
        "bare PyTorch loop (shuffle)": lambda: bare_loop(X, y, **kw),
        "LSTMClassifier, library defaults (shuffle)": lambda: skorch_fit(X, y, shuffle=True, **kw),
        "LSTMClassifier, iterator_train__shuffle=False": lambda: skorch_fit(X, y, shuffle=False, **kw),
    }
    # Warm-up, not timed (first-call costs of torch and skorch).
    Xw, yw = X[:32, :50], y[:32]
    bare_loop(Xw, yw, **{**kw, "epochs": 1})
    skorch_fit(Xw, yw, shuffle=True, **{**kw, "epochs": 1})

    n_batches = -(-args.n // args.batch_size) * args.epochs
    print(f"Training throughput: {args.n} samples x {args.frames} frames x {args.n_mels} mels float32, "
          f"hidden {args.hidden}, batch {args.batch_size}, {args.epochs} epochs ({n_batches} batches), "
          f"Adam lr {args.lr:g}; median of {args.repeat}")
    print(f"machine: {machine()}; torch threads {threads} (both)")
    times = {name: [] for name in variants}
    names = list(variants)
    for rep in range(args.repeat):
        for name in names[rep % len(names):] + names[: rep % len(names)]:
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    samples = args.n * args.epochs
    base = median(times[names[0]])
    rows = []
    for name in names:
        t = median(times[name])
        rows.append([name, f"{t:.2f}", f"{min(times[name]):.2f}", f"{samples / t:.0f}",
                     "-" if name == names[0] else f"{100 * (t / base - 1):+.1f}%",
                     "-" if name == names[0] else f"{1e3 * (t - base) / n_batches:+.2f}"])
    print()
    table(["variant", "median s", "best s", "samples/s", "overhead", "ms/batch"], rows)
    like = median(times[names[1]]) / base - 1
    like_best = min(times[names[1]]) / min(times[names[0]]) - 1
    ok = like <= TARGET_OVERHEAD
    spread = max(times[names[0]]) / min(times[names[0]])
    print(f"\nskorch overhead, like for like (shuffled batches): {100 * like:+.1f}% on medians, "
          f"{100 * like_best:+.1f}% on best times (target <= {100 * TARGET_OVERHEAD:.0f}%: {'MET' if ok else 'MISSED'})")
    if spread > 1.5:
        print(f"warning: the bare loop's times vary {spread:.1f}x between runs (a busy machine); "
              "compare the best times, or rerun with --threads 1 or more --repeat")
    if args.profile == "always" or (args.profile == "auto" and not ok):
        prof = cProfile.Profile()
        prof.enable()
        skorch_fit(X, y, shuffle=True, **kw)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(15)
        text = buf.getvalue()
        print("\ncProfile of the skorch fit, top 15 by tottime:")
        print(text[text.index("ncalls"):].rstrip() if "ncalls" in text else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

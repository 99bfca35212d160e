"""Real recordings stitched into song forms, with every section's time recorded.

The audio comes from Debian packages of freely licensed game soundtracks (see
``PACKAGES``: each package's ``copyright`` file is kept next to the songs).
A song is made from ONE source track: regions of that track, cut on bar
boundaries of its beat grid, become the song's materials (intro, verse,
pre-chorus, chorus, bridge, outro) and are laid out in a pop form.  The
materials of a song therefore share instruments, mix and key, as the sections
of a real song do, and only their music differs.

What makes it a fair test of chorus finding:

* every occurrence of the chorus is the same music; so is every verse in half
  the songs (the verse repeats too, as in real songs), and a pre-chorus
  precedes the choruses in the forms that have one (so "verse + pre-chorus +
  chorus" repeats as a unit, and the chorus must be told from what precedes it);
* the chorus is louder than the verses in some songs, as loud in others and
  quieter in a few (``LOUDNESS``), so "the loudest 20 s" is a real but
  imperfect cue;
* the last chorus (or last two) goes up one or two semitones in a quarter of
  the songs (a key change, by phase-vocoder pitch shift);
* each occurrence of a section gets its own small gain (+-0.75 dB), and the
  joins fall on the track's bar grid, with 10 ms fades;
* materials cut from one track must not be the chorus's music: a candidate
  region is rejected when its bar-wise log-mel profile matches the chorus
  region's at some alignment (``_SAME_MUSIC``; game music loops, and a "bridge"
  that is the chorus again would make the ground truth wrong).  Other
  materials may resemble each other, as a solo over the verse's chords does.

The exact copies are easier than a real band's repeated choruses (which differ
in lyrics, fills and performance): the synthetic corpus
(``make_songs(form="pop")``) re-renders every occurrence with its own variations.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import zipfile

import numpy as np

#: Debian package -> which split its songs go to.  "dev" songs may be used to
#: develop and tune methods; "heldout" songs only to report them.
PACKAGES = {
    "nexuiz-music": "dev",
    "drascula-music": "dev",
    "singularity-music": "dev",
    "warzone2100-music": "heldout",
    "planetblupi-music-ogg": "heldout",
    "hyperrogue-music": "heldout",
    "asc-music": "heldout",
}
_AUDIO_EXT = (".ogg", ".opus", ".flac", ".wav", ".mp3")
#: shortest source track used, in seconds
MIN_SOURCE_SECONDS = 100.0
#: rate of the written songs
SONG_RATE = 44100
_ANALYSIS_RATE = 22050

#: forms: (weight, sections); "C" chorus, "V1"/"V2" verses, "P" pre-chorus,
#: "B" bridge, "I" intro, "O" outro, "S" an instrumental (a verse region's music)
FORMS = (
    (3, ("I", "V1", "C", "V2", "C", "B", "C", "C", "O")),
    (3, ("I", "V1", "P", "C", "V2", "P", "C", "B", "C", "C", "O")),
    (2, ("I", "V1", "P", "C", "V2", "P", "C", "B", "P", "C", "O")),
    (1, ("I", "C", "V1", "C", "V2", "C", "B", "C", "O")),
    (1, ("V1", "C", "V2", "C", "B", "C", "C")),
    (1, ("I", "V1", "V2", "C", "V1", "C", "S", "C", "C", "O")),
)
#: chorus level relative to the verses (dB) and its probability
LOUDNESS = ((3.0, 0.45), (1.0, 0.25), (0.0, 0.2), (-2.0, 0.1))
#: probability that the last chorus (or the last two) is a key change
KEY_CHANGE_RATE = 0.25
_GAIN_JITTER_DB = 0.75
_FADE_S = 0.01
#: bar-profile similarity (mean cosine of standardised log-mel bar profiles at
#: the best alignment) above which a region counts as the chorus's music.
#: Random pairs of 8-bar regions of these tracks score about 0.1 at the median
#: and 0.75-0.9 at the 90th percentile (the tracks loop).
_SAME_MUSIC = 0.6


# ----------------------------------------------------------------------
# Sources
# ----------------------------------------------------------------------
def fetch_sources(cache_dir: str, packages=None, *, verbose: bool = True) -> dict:
    """Download (``apt-get download``) and unpack the packages; list their tracks.

    Returns
    -------
    dict
        package -> sorted list of audio files of at least ``MIN_SOURCE_SECONDS``.
    """
    import soundfile as sf

    packages = list(packages or PACKAGES)
    debs = os.path.join(cache_dir, "debs")
    root = os.path.join(cache_dir, "unpacked")
    os.makedirs(debs, exist_ok=True)
    out = {}
    for pkg in packages:
        target = os.path.join(root, pkg)
        if not os.path.isdir(target):
            if not glob.glob(os.path.join(debs, f"{pkg}_*.deb")):
                if verbose:
                    print(f"[corpus] apt-get download {pkg}", flush=True)
                subprocess.run(["apt-get", "download", "-q", pkg], cwd=debs, check=True,
                               stdout=subprocess.DEVNULL)
            deb = sorted(glob.glob(os.path.join(debs, f"{pkg}_*.deb")))[-1]
            tmp = target + ".tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
            for pk3 in glob.glob(os.path.join(tmp, "**", "*.pk3"), recursive=True):  # zip archives
                with zipfile.ZipFile(pk3) as zf:
                    zf.extractall(os.path.join(tmp, "pk3", os.path.basename(pk3)))
            os.replace(tmp, target)
        files = []
        for path in sorted(glob.glob(os.path.join(target, "**", "*"), recursive=True)):
            if path.lower().endswith(_AUDIO_EXT) and not os.path.islink(path):
                try:
                    if sf.info(path).duration >= MIN_SOURCE_SECONDS:
                        files.append(path)
                except RuntimeError:
                    continue
        out[pkg] = files
    return out


def copyright_files(cache_dir: str, packages=None) -> dict:
    """package -> path of its Debian ``copyright`` file."""
    root = os.path.join(cache_dir, "unpacked")
    return {p: os.path.join(root, p, "usr", "share", "doc", p, "copyright") for p in (packages or PACKAGES)}


# ----------------------------------------------------------------------
# One song
# ----------------------------------------------------------------------
def _load(path: str):
    import soundfile as sf
    import soxr

    data, sr = sf.read(path, dtype="float32", always_2d=True)
    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    data = data[:, :2]
    if sr != SONG_RATE:
        data = soxr.resample(data, sr, SONG_RATE).astype(np.float32)
    mono = soxr.resample(data.mean(axis=1), SONG_RATE, _ANALYSIS_RATE).astype(np.float32)
    return data, mono


def _bar_grid(mono: np.ndarray):
    """Bar start times (s) from librosa's beat tracker, four beats a bar."""
    import librosa

    tempo, beats = librosa.beat.beat_track(y=mono, sr=_ANALYSIS_RATE, units="time")
    beats = np.asarray(beats, dtype=float)
    if beats.size < 16:
        return None
    period = float(np.median(np.diff(beats)))
    if not 60 / 180 <= period <= 60 / 70:  # implausible tempo: use 120 BPM bars
        period = 0.5
    # a regular grid through the tracked beats (the tracker's beats drift in
    # tracks without drums); bars of four beats
    phase = float(np.median(np.mod(beats, period)))
    duration = mono.size / _ANALYSIS_RATE
    bar = 4 * period
    return np.arange(phase, duration - bar, bar), bar


def _bar_profiles(mono: np.ndarray, bars: np.ndarray, bar: float) -> np.ndarray:
    """Per-bar mean log-mel (24 bands), standardised over the track: (n_bars, 24)."""
    import librosa

    mel = librosa.feature.melspectrogram(y=mono, sr=_ANALYSIS_RATE, n_fft=2048, hop_length=512, n_mels=24)
    logmel = np.log(mel + 1e-6)
    frames = librosa.time_to_frames(bars, sr=_ANALYSIS_RATE, hop_length=512)
    span = max(1, int(bar * _ANALYSIS_RATE / 512))
    prof = np.stack([logmel[:, f : f + span].mean(axis=1) for f in frames])
    prof -= prof.mean(axis=0)
    prof /= np.linalg.norm(prof, axis=1, keepdims=True) + 1e-9
    return prof


def _same_music(prof: np.ndarray, a: tuple, b: tuple) -> bool:
    """Whether bar regions ``a`` and ``b`` (first bar, n bars) match at some alignment."""
    (a0, na), (b0, nb) = a, b
    pa, pb = prof[a0 : a0 + na], prof[b0 : b0 + nb]
    n = min(len(pa), len(pb))
    best = -1.0
    for shift in range(-(len(pb) - 1), len(pa)):
        ia = np.arange(max(0, shift), min(len(pa), shift + len(pb)))
        if ia.size < max(4, n // 2):
            continue
        best = max(best, float(np.mean(np.sum(pa[ia] * pb[ia - shift], axis=1))))
    return best > _SAME_MUSIC


def _pick_regions(rng, n_bars: int, lengths: dict, prof) -> dict | None:
    """Non-overlapping bar regions for each material, none the chorus's music."""
    order = sorted(lengths, key=lambda k: -lengths[k])  # longest first
    for _ in range(200):
        taken, regions = [], {}
        for name in order:
            n = lengths[name]
            starts = [s for s in range(0, n_bars - n + 1)
                      if all(s + n <= t0 or s >= t0 + tn for t0, tn in taken)]
            if not starts:
                break
            s = int(rng.choice(starts))
            regions[name] = (s, n)
            taken.append((s, n))
        if len(regions) != len(order):
            continue
        chorus = regions["C"]
        if any(_same_music(prof, chorus, regions[k]) for k in regions if k != "C"):
            continue
        return regions
    return None


def _pitch_shift(audio: np.ndarray, steps: float) -> np.ndarray:
    import librosa

    return np.stack([librosa.effects.pitch_shift(audio[:, c], sr=SONG_RATE, n_steps=steps)
                     for c in range(audio.shape[1])], axis=1).astype(np.float32)


def _rms_db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-12))


def stitch_song(rng: np.random.Generator, path: str) -> tuple[np.ndarray, dict] | None:
    """One song from one source track: ``(audio (n, 2) float32 at SONG_RATE, truth)``.

    ``None`` when the track cannot hold the materials (too short, or too
    repetitive to find distinct regions).
    """
    audio, mono = _load(path)
    grid = _bar_grid(mono)
    if grid is None:
        return None
    bars, bar = grid
    n_bars = bars.size
    weights = np.array([w for w, _ in FORMS], dtype=float)
    form = list(FORMS[int(rng.choice(len(FORMS), p=weights / weights.sum()))][1])
    # section lengths in bars: the chorus 15-34 s, verses 16-34 s
    def bars_for(lo_s, hi_s, options):
        fits = [k for k in options if lo_s <= k * bar <= hi_s]
        return int(rng.choice(fits)) if fits else int(options[0])

    lengths = {"C": bars_for(15, 34, (8, 12, 16)), "V1": bars_for(14, 34, (8, 12, 16))}
    verse_repeats = bool(rng.random() < 0.5)  # V2 is V1's music again
    if "V2" in form and not verse_repeats:
        lengths["V2"] = bars_for(14, 34, (8, 12, 16))
    if "P" in form:
        lengths["P"] = bars_for(6, 12, (2, 4, 6))
    if "B" in form:
        lengths["B"] = bars_for(8, 24, (4, 6, 8, 12))
    if "I" in form:
        lengths["I"] = bars_for(6, 16, (2, 4, 8))
    if "O" in form:
        lengths["O"] = bars_for(8, 20, (4, 6, 8))
    if sum(lengths.values()) > n_bars:
        return None
    prof = _bar_profiles(mono, bars, bar)
    regions = _pick_regions(rng, n_bars, lengths, prof)
    if regions is None:
        return None
    if "V2" in form and verse_repeats:
        regions["V2"] = regions["V1"]
    if "S" in form:
        regions["S"] = regions["V1"]

    def cut(name):
        b0, nb = regions[name]
        i0 = int(round(bars[b0] * SONG_RATE))
        i1 = int(round((bars[b0] + nb * bar) * SONG_RATE))
        return audio[i0:i1].copy()

    material = {name: cut(name) for name in regions}
    # chorus level relative to the verses
    levels, probs = zip(*LOUDNESS)
    chorus_db = float(rng.choice(levels, p=np.array(probs) / sum(probs)))
    verse_db = _rms_db(material["V1"])
    for name in material:
        if name == "C":
            target = verse_db + chorus_db
        elif name in ("V1", "V2", "S"):
            target = verse_db
        else:  # other sections near the verses' level
            target = verse_db + float(rng.uniform(-3.0, 1.0))
        material[name] *= np.float32(10 ** ((target - _rms_db(material[name])) / 20))
    key_change = float(rng.choice([1, 2])) if rng.random() < KEY_CHANGE_RATE else 0.0
    chorus_slots = [i for i, name in enumerate(form) if name == "C"]
    shifted = set()
    if key_change:
        last = chorus_slots[-1]
        shifted = {last, last - 1} if form[last - 1] == "C" else {last}
        shifted_chorus = _pitch_shift(material["C"], key_change)

    pieces, names = [], []
    for i, name in enumerate(form):
        piece = shifted_chorus if i in shifted else material[name]
        gain = 10 ** (float(rng.uniform(-_GAIN_JITTER_DB, _GAIN_JITTER_DB)) / 20)
        piece = piece * np.float32(gain)
        if name == "I":
            ramp = np.minimum(1.0, np.arange(piece.shape[0]) / (2.0 * SONG_RATE)).astype(np.float32)
            piece = piece * ramp[:, None]
        if name == "O":
            n = piece.shape[0]
            ramp = np.minimum(1.0, (n - np.arange(n)) / (4.0 * SONG_RATE)).astype(np.float32)
            piece = piece * ramp[:, None]
        pieces.append(piece)
        names.append(name)
    song, bounds = _join(pieces)
    peak = float(np.max(np.abs(song)))
    song *= np.float32(0.89 / max(peak, 1e-9))
    sections = [(_section_name(n), float(a), float(b)) for n, (a, b) in zip(names, bounds)]
    truth = {
        "source": path,
        "form": " ".join(names),
        "sections": sections,
        "chorus_times": [(a, b) for n, a, b in sections if n == "chorus"],
        "chorus_db": chorus_db,
        "key_change": key_change,
        "verse_repeats": verse_repeats,
        "tempo": 240.0 / bar,
    }
    return song, truth


def _section_name(code: str) -> str:
    return {"C": "chorus", "V1": "verse", "V2": "verse", "P": "pre-chorus", "B": "bridge", "I": "intro",
            "O": "outro", "S": "instrumental"}[code]


def _join(pieces):
    """Concatenate with 10 ms fades at every edge (no clicks); the section bounds (s)."""
    n_f = int(_FADE_S * SONG_RATE)
    ramp = np.linspace(0.0, 1.0, n_f, dtype=np.float32)[:, None]
    bounds, pos = [], 0
    faded = []
    for p in pieces:
        p = p.copy()
        p[:n_f] *= ramp
        p[-n_f:] *= ramp[::-1]
        faded.append(p)
        bounds.append((pos / SONG_RATE, (pos + p.shape[0]) / SONG_RATE))
        pos += p.shape[0]
    return np.concatenate(faded), bounds

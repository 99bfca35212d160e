"""Which audio container a file is, from its first bytes: FFmpeg is only given known ones.

FFmpeg probes a file's content, not its name, and some of its demuxers are
scripts that open *other* files: a 39-byte text file named ``evil.mp3``
holding ``ffconcat version 1.0`` / ``file innocent.wav`` is decoded as
whatever ``innocent.wav`` points to (a symbolic link out of the dataset
folder), and an HLS or m3u playlist names files or URLs to fetch.  So before
the FFmpeg back-end opens a file, its first bytes must be the signature of an
audio container on this allow-list (whatever the file's extension);
everything else, text above all, is refused without FFmpeg seeing it.

libsndfile (the soundfile back-end) reads only self-contained formats of its
own (WAV, AIFF, FLAC, Ogg, MP3, ...) and follows no reference, so it needs no
such check.  This module imports nothing of ours.
"""

from __future__ import annotations

__all__ = ["CONTAINERS", "HEAD_SIZE", "container_of"]

#: the containers FFmpeg may open, each with how to recognise its first bytes
CONTAINERS = {
    "wav": lambda h: h[:4] in (b"RIFF", b"RF64", b"BW64") and h[8:12] == b"WAVE",
    "w64": lambda h: h[:8] == b"riff\x2e\x91\xcf\x11",
    "aiff": lambda h: h[:4] == b"FORM" and h[8:12] in (b"AIFF", b"AIFC"),
    "flac": lambda h: h[:4] == b"fLaC",
    "ogg": lambda h: h[:4] == b"OggS",
    "matroska/webm": lambda h: h[:4] == b"\x1a\x45\xdf\xa3",
    "mp4/m4a/mov": lambda h: h[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"),
    "caf": lambda h: h[:4] == b"caff",
    "au": lambda h: h[:4] == b".snd",
    "amr": lambda h: h[:5] == b"#!AMR",
    "asf/wma": lambda h: h[:8] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",
    "ape": lambda h: h[:4] == b"MAC ",
    "wavpack": lambda h: h[:4] == b"wvpk",
    "mp3/aac (ID3 tag)": lambda h: h[:3] == b"ID3",
    "mp3/aac (frames)": lambda h: len(h) >= 2 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0,
    "ac3": lambda h: h[:2] == b"\x0b\x77",
}
HEAD_SIZE = 16


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text.lstrip("\ufeff"))


def container_of(head: bytes) -> str:
    """The container whose signature ``head`` (a file's first 16 bytes) starts with.

    Raises
    ------
    ValueError
        No container of :data:`CONTAINERS` starts so: the reason, in words
        (text is named as such: a playlist or a script, never given to FFmpeg).

    Examples
    --------
    >>> container_of(b"fLaC\\x00\\x00\\x00\\x22")
    'flac'
    >>> container_of(b"ffconcat version 1.0\\nfile a.wav\\n"[:16])
    Traceback (most recent call last):
    ...
    ValueError: not a known audio container: it starts with text ('ffconcat version'), as a playlist or a script does (FFmpeg's concat, HLS, m3u), which could make FFmpeg open other files
    """
    for name, matches in CONTAINERS.items():
        if matches(head):
            return name
    if _looks_like_text(head):
        shown = head.decode("utf-8", "replace")
        return _refuse(f"it starts with text ({shown!r}), as a playlist or a script does (FFmpeg's concat, HLS, "
                       "m3u), which could make FFmpeg open other files")
    return _refuse(f"its first bytes are {head[:8].hex(' ')}")


def _refuse(reason: str):
    raise ValueError(f"not a known audio container: {reason}")

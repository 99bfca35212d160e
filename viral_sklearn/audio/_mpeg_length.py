"""How many samples an MP3 without a length header holds, counted from its frames.

libsndfile takes an MP3's length from its Xing, Info or VBRI header.  Without one,
mpg123 estimates the length from the first frame's bit rate, and libsndfile stops
decoding at that estimate: a variable-bit-rate MP3 without the header (older
encoders, stream rips) is cut short without a word (37.7 s of a 60-s song in the
tests).  :func:`samples_without_length_header` walks such a file's frame headers
and counts its samples, so the decoder can tell (``_decode``) and hand the file to
FFmpeg, which decodes to the end, or say why it cannot.
"""

from __future__ import annotations

import mmap

__all__ = ["samples_without_length_header"]

#: kbit/s for bit-rate indices 1-14, by (MPEG-1?, layer)
_BITRATES = {
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
#: sample rates for indices 0-2, by the header's version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
#: the tags that give an MP3's length, inside its first frame
_LENGTH_TAGS = (b"Xing", b"Info", b"VBRI")


def frame_header(header: bytes) -> tuple[int, int, int] | None:
    """``(bytes, samples, sample_rate)`` of the MPEG audio frame whose 4-byte header
    this is, or None when it is not one (no sync, reserved or free-format fields).

    Examples
    --------
    >>> frame_header(bytes([0xFF, 0xFB, 0x90, 0x64]))  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz
    (417, 1152, 44100)
    >>> frame_header(b"ID3\\x04") is None
    True
    """
    if len(header) < 4:
        return None
    h = int.from_bytes(header[:4], "big")
    version, layer, index, rate_index = (h >> 19) & 3, 4 - ((h >> 17) & 3), (h >> 12) & 15, (h >> 10) & 3
    if (h >> 21) != 0x7FF or version == 1 or layer == 4 or index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][index - 1] * 1000
    rate = _RATES[version][rate_index]
    padding = (h >> 9) & 1
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4, 384, rate
    if layer == 3 and not mpeg1:
        return 72 * bitrate // rate + padding, 576, rate
    return 144 * bitrate // rate + padding, 1152, rate


def _id3v2_size(data) -> int:
    """Bytes of the ID3v2 tag that starts the file (0 when there is none)."""
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    return 10 + size + (10 if data[5] & 0x10 else 0)


#: false frame headers looked at, at most, before the count is given up (None): a
#: hostile file full of them costs milliseconds, not a Python loop over every byte
_MAX_FALSE_HEADERS = 10_000


class _Walk:
    """Frame positions in ``data[:end]``, resynchronising past junk within a budget."""

    def __init__(self, data, end: int):
        self.data, self.end, self.budget = data, end, _MAX_FALSE_HEADERS

    def next_frame(self, pos: int, rate: int | None) -> int | None:
        """The first position at or after ``pos`` where two frames in a row begin (of
        sample rate ``rate`` when given): a frame header found in other bytes rarely
        has a second one where it says the next frame starts.  None: no more frames,
        or the budget of false headers is spent."""
        data, end = self.data, self.end
        while self.budget > 0:
            pos = data.find(b"\xff", pos, end)
            if pos < 0:
                return None
            first = frame_header(data[pos : pos + 4])
            if first is not None and (rate is None or first[2] == rate):
                second = frame_header(data[pos + first[0] : pos + first[0] + 4])
                if (second is not None and second[2] == first[2]) or pos + first[0] == end:
                    return pos
            self.budget -= 1
            pos += 1
        return None


def samples_without_length_header(path: str) -> int | None:
    """Samples per channel of the MPEG audio file ``path`` when it has no length
    header (Xing, Info or VBRI in its first frame), counted frame by frame; None
    when it has one (its decoders know its length) or holds no frame.

    Junk between frames is skipped as decoders skip it (to the next two frames in a
    row); ID3v2 and ID3v1 tags are not counted.  Reads the file through ``mmap``: no
    memory beyond the page cache, whatever its size; a file with more than
    ``_MAX_FALSE_HEADERS`` false frame headers is not counted (None).
    """
    with open(path, "rb") as fh:
        try:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # empty, or a file system that cannot map it: not counted
            return None
    with data:
        end = len(data)
        if end >= 128 and data[end - 128 : end - 125] == b"TAG":
            end -= 128
        walk = _Walk(data, end)
        pos = walk.next_frame(_id3v2_size(data), None)
        if pos is None:
            return None
        length, _, rate = frame_header(data[pos : pos + 4])
        if any(data.find(tag, pos, pos + length) >= 0 for tag in _LENGTH_TAGS):
            return None
        total = 0
        while pos is not None and pos + 4 <= end:
            header = frame_header(data[pos : pos + 4])
            if header is None or header[2] != rate:
                pos = walk.next_frame(pos + 1, rate)
                continue
            if pos + header[0] > end:  # a frame cut off by the end of the file
                break
            total += header[1]
            pos += header[0]
        return total if walk.budget > 0 else None

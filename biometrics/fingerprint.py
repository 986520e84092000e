"""Audio fingerprints for replay detection: pairs of spectral peaks (landmarks), not speaker embeddings.

A fingerprint says "this exact recording", where a voiceprint says "this voice". Peaks of the log
spectrogram (250 Hz to 3.8 kHz, what survives a G.711 call) are paired with later peaks near them; each
pair is hashed as (anchor frequency, target frequency, time gap) and kept with the anchor's frame. Two
recordings share a long stretch of audio when many hashes match *at the same time offset*; two
different utterances, even of the same speaker and the same sentence, do not line up. The method is the
landmark fingerprint of Wang (2003), sized for 8 kHz telephone speech.

Everything here is pure and synchronous (numpy); :func:`fingerprint` of 60 s of audio takes a few ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter

from media.frame import Pcm

RATE = 16000
N_FFT = 512  # 32 ms
HOP = 128  # 8 ms per fingerprint frame (finer steps: a replay starts at any sample, not on our grid)
FRAME_S = HOP / RATE
LOW_BIN, HIGH_BIN = 8, 122  # 250 Hz .. 3.8 kHz at 31.25 Hz per bin
PEAK_TIME, PEAK_FREQ = 10, 6  # half-size of the neighbourhood a peak must top (frames, bins)
PEAK_FLOOR_DB = 6.0  # a peak stands this far above its frame's median level
SILENCE_DB = -70.0  # frames quieter than this (dBFS) carry no peaks
FAN_OUT = 10  # targets paired with each anchor
MAX_DT = 80  # frames (640 ms) from anchor to target
MAX_DF = 40  # bins (1.25 kHz)
WINDOW_S = 4.0  # matches are counted within this much of the query
Hashes = npt.NDArray[np.uint32]
Frames = npt.NDArray[np.int32]


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Landmark hashes of one recording and the frame (8 ms steps) each anchor sits at."""

    hashes: Hashes
    frames: Frames

    def __len__(self) -> int:
        return int(self.hashes.size)

    @property
    def duration_s(self) -> float:
        """Time from the first to the last anchor."""
        return float(self.frames.max() - self.frames.min()) * FRAME_S if self.frames.size else 0.0

    def to_bytes(self) -> bytes:
        """Compact little-endian form (hashes then frames), for sealing and storing."""
        return np.asarray(self.hashes, "<u4").tobytes() + np.asarray(self.frames, "<i4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """Inverse of :meth:`to_bytes`; ValueError when the length is not whole pairs."""
        if len(data) % 8:
            raise ValueError(f"a fingerprint is pairs of 4-byte values; got {len(data)} bytes")
        half = len(data) // 2
        return cls(np.frombuffer(data[:half], "<u4").astype(np.uint32),
                   np.frombuffer(data[half:], "<i4").astype(np.int32))

    @classmethod
    def empty(cls) -> Fingerprint:
        """No audio, no hashes."""
        return cls(np.zeros(0, np.uint32), np.zeros(0, np.int32))


def spectrogram_db(pcm16k: Pcm) -> npt.NDArray[np.float32]:
    """Log power (dBFS) per frame and bin, bins ``LOW_BIN``..``HIGH_BIN`` only."""
    x = np.asarray(pcm16k, dtype=np.float32) / 32768.0
    if x.size < N_FFT:
        return np.zeros((0, HIGH_BIN - LOW_BIN), np.float32)
    count = 1 + (x.size - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    spectrum = np.fft.rfft(x[index] * np.hanning(N_FFT).astype(np.float32), axis=1)[:, LOW_BIN:HIGH_BIN]
    power = (np.abs(spectrum) ** 2) / (N_FFT / 4)
    return (10.0 * np.log10(power + 1e-12)).astype(np.float32)


def peaks(spec_db: npt.NDArray[np.float32]) -> tuple[Frames, Frames]:
    """(frames, bins) of local maxima that stand out from their frame and are not silence."""
    if spec_db.size == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    local = maximum_filter(spec_db, size=(2 * PEAK_TIME + 1, 2 * PEAK_FREQ + 1), mode="constant", cval=-np.inf)
    median = np.median(spec_db, axis=1, keepdims=True)
    loud = spec_db.max(axis=1, keepdims=True) > SILENCE_DB
    mask = (spec_db == local) & (spec_db >= median + PEAK_FLOOR_DB) & loud
    t, f = np.nonzero(mask)
    return t.astype(np.int32), (f + LOW_BIN).astype(np.int32)


def landmarks(t: Frames, f: Frames) -> Fingerprint:
    """Pair each peak with its ``FAN_OUT`` nearest later peaks in its target zone; hash each pair."""
    order = np.lexsort((f, t))
    t, f = t[order], f[order]
    hashes: list[Hashes] = []
    anchors: list[npt.NDArray[np.intp]] = []
    index = np.arange(t.size)
    for k in range(1, min(FAN_OUT * 4, t.size - 1) + 1):  # the k-th next peak: nearest targets come first
        dt, df = t[k:] - t[:-k], f[k:] - f[:-k]
        ok = (dt >= 1) & (dt <= MAX_DT) & (np.abs(df) <= MAX_DF)
        hashes.append((f[:-k][ok].astype(np.uint32) << 14) | ((df[ok] + MAX_DF).astype(np.uint32) << 7)
                      | dt[ok].astype(np.uint32))
        anchors.append(index[:-k][ok])
    if not hashes:
        return Fingerprint.empty()
    h, anchor = np.concatenate(hashes), np.concatenate(anchors)
    by_anchor = np.argsort(anchor, kind="stable")  # stable: within one anchor, nearest target first
    sorted_anchor = anchor[by_anchor]
    first = np.searchsorted(sorted_anchor, sorted_anchor, side="left")
    keep = by_anchor[np.arange(h.size) - first < FAN_OUT]
    keep.sort()
    return Fingerprint(h[keep], t[anchor[keep]].astype(np.int32))


def fingerprint(pcm16k: Pcm) -> Fingerprint:
    """The landmark fingerprint of 16 kHz int16 audio (any length; empty below 32 ms)."""
    t, f = peaks(spectrogram_db(pcm16k))
    return landmarks(t, f)


@dataclass(frozen=True)
class Alignment:
    """How much of a query lines up with a reference: hashes matching at one time offset, close together."""

    aligned: int  # most anchor frames matching at one offset (a frame of jitter either side) within WINDOW_S
    offset_s: float  # where that stretch of the query sits in the reference (reference minus query time)
    query_hashes: int
    reference_hashes: int


def align(query: Fingerprint, reference: Fingerprint) -> Alignment:
    """Best time alignment of ``query`` within ``reference`` (vectorised; no Python loop per hash).

    Counting only within a ``WINDOW_S`` stretch of the query keeps long calls from piling up chance
    matches: a replay is dense in time, chance collisions are spread over the whole call.
    """
    none = Alignment(0, 0.0, len(query), len(reference))
    if not len(query) or not len(reference):
        return none
    order = np.argsort(reference.hashes, kind="stable")
    ref_hashes, ref_frames = reference.hashes[order], reference.frames[order]
    lo = np.searchsorted(ref_hashes, query.hashes, side="left")
    counts = np.searchsorted(ref_hashes, query.hashes, side="right") - lo
    total = int(counts.sum())
    if total == 0:
        return none
    query_at = np.repeat(np.arange(len(query)), counts)
    ref_at = np.repeat(lo - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(total)
    offsets = ref_frames[ref_at].astype(np.int64) - query.frames[query_at]
    when = query.frames[query_at].astype(np.int64)
    # each match counts toward its own offset and both neighbours (a frame of jitter either side)
    off = np.concatenate([offsets - 1, offsets, offsets + 1])
    at = np.tile(when, 3)
    base = int(off.min())
    # distinct anchor frames per offset: one anchor matching with several of its targets counts once
    packed = np.unique((off - base) * (1 << 32) + at)  # sorted by (offset, time)
    window = round(WINDOW_S / FRAME_S)
    dense = np.searchsorted(packed, packed + window, side="left") - np.arange(packed.size)
    i = int(np.argmax(dense))
    best, best_offset = int(dense[i]), int(packed[i] >> 32) + base
    return Alignment(best, best_offset * FRAME_S, len(query), len(reference))

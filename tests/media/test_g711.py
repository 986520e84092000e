import numpy as np
import pytest

from media import g711
from tests.media.helpers import sine, snr_db

ALL_CODES = bytes(range(256))


@pytest.mark.parametrize(
    ("code", "value"),
    [(0xFF, 0), (0x7F, 0), (0x00, -32124), (0x80, 32124), (0xFE, 8), (0x7E, -8), (0xEF, 132), (0x6F, -132)],
)
def test_ulaw_decode_known_values(code, value):
    assert int(g711.ulaw_decode(bytes([code]))[0]) == value


@pytest.mark.parametrize(
    ("code", "value"),
    [(0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xD4, 24), (0xC5, 264)],
)
def test_alaw_decode_known_values(code, value):
    assert int(g711.alaw_decode(bytes([code]))[0]) == value


def test_ulaw_table_shape_and_symmetry():
    t = g711.ULAW_DECODE.astype(np.int32)
    assert t.dtype == np.int32 and g711.ULAW_DECODE.dtype == np.int16
    assert t.shape == (256,)
    # negative half rises from -32124 to 0, positive half falls from 32124 to 0
    assert np.all(np.diff(t[:128]) > 0)
    assert np.all(np.diff(t[128:]) < 0)
    assert np.array_equal(t[:128], -t[128:])


def test_alaw_table_shape_and_symmetry():
    t = g711.ALAW_DECODE.astype(np.int32)
    assert g711.ALAW_DECODE.dtype == np.int16
    assert np.array_equal(t[:128], -t[128:])
    assert len(set(t.tolist())) == 256, "A-law has no duplicate zero"
    assert t.min() == -32256 and t.max() == 32256


def test_decode_returns_int16_of_input_length():
    for decode in (g711.ulaw_decode, g711.alaw_decode):
        out = decode(ALL_CODES)
        assert out.dtype == np.int16
        assert out.shape == (256,)
        assert decode(b"").size == 0


@pytest.mark.parametrize(
    ("encode", "decode"), [(g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)]
)
def test_encode_decode_all_codes(encode, decode):
    decoded = decode(ALL_CODES)
    reencoded = encode(decoded)
    assert isinstance(reencoded, bytes) and len(reencoded) == 256
    values = decoded.tolist()
    mismatched = [c for c in range(256) if reencoded[c] != c]
    # only codes that share their decoded value with another code may map elsewhere
    for c in mismatched:
        assert values.count(values[c]) > 1, f"code {c:#04x} does not round trip"
    # and even those must land on a code with the same value
    assert np.array_equal(decode(reencoded), decoded)


def test_ulaw_only_duplicate_zero_is_exempt():
    reencoded = g711.ulaw_encode(g711.ulaw_decode(ALL_CODES))
    mismatched = {c for c in range(256) if reencoded[c] != c}
    assert mismatched <= {0x7F, 0xFF}
    assert len(mismatched) == 1  # exactly one of the two zero codes is canonical


def test_alaw_round_trips_every_code_exactly():
    assert g711.alaw_encode(g711.alaw_decode(ALL_CODES)) == ALL_CODES


def all_values() -> np.ndarray:
    return np.arange(-32768, 32768, dtype=np.int32)


@pytest.mark.parametrize(
    ("encode", "table"), [(g711.ulaw_encode, g711.ULAW_DECODE), (g711.alaw_encode, g711.ALAW_DECODE)]
)
def test_encode_quantizes_to_a_bracketing_level(encode, table):
    """Every 16-bit value encodes to the quantization level just below or just above it."""
    values = all_values()
    levels = np.unique(table.astype(np.int32))
    decoded = table[np.frombuffer(encode(values.astype(np.int16)), dtype=np.uint8)].astype(np.int32)
    idx = np.clip(np.searchsorted(levels, values, side="right"), 1, levels.size - 1)
    below = levels[idx - 1]
    above = levels[idx]
    inside = (values >= levels[0]) & (values <= levels[-1])
    ok = (decoded == below) | (decoded == above)
    assert np.all(ok[inside]), f"first bad value {values[inside & ~ok][:3]}"
    # beyond the largest level, values saturate at the extreme codes
    assert np.all(decoded[values > levels[-1]] == levels[-1])
    assert np.all(decoded[values < levels[0]] == levels[0])


@pytest.mark.parametrize(
    ("encode", "table"), [(g711.ulaw_encode, g711.ULAW_DECODE), (g711.alaw_encode, g711.ALAW_DECODE)]
)
def test_encode_is_monotonic(encode, table):
    values = all_values()
    decoded = table[np.frombuffer(encode(values.astype(np.int16)), dtype=np.uint8)].astype(np.int32)
    assert np.all(np.diff(decoded) >= 0)


@pytest.mark.parametrize(
    ("encode", "decode"), [(g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)]
)
def test_relative_error_bounded(encode, decode):
    """Companding: above the smallest segments the error stays within 4 % of the magnitude."""
    values = all_values()
    x = values[np.abs(values) >= 1024]
    x = x[np.abs(x) <= 32000]
    err = np.abs(decode(encode(x.astype(np.int16))).astype(np.int32) - x)
    assert np.all(err <= 0.04 * np.abs(x))


def test_encode_extremes():
    extremes = np.array([32767, -32768], dtype=np.int16)
    assert g711.ulaw_encode(extremes) == b"\x80\x00"
    assert g711.alaw_encode(extremes) == b"\xaa\x2a"


def test_encode_silence_decodes_to_near_zero():
    zeros = np.zeros(160, dtype=np.int16)
    assert not g711.ulaw_decode(g711.ulaw_encode(zeros)).any()
    assert np.all(np.abs(g711.alaw_decode(g711.alaw_encode(zeros))) == 8)


@pytest.mark.parametrize(
    ("encode", "decode"), [(g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)]
)
@pytest.mark.parametrize("amplitude", [2000, 10000, 30000])
def test_sine_round_trip_snr(encode, decode, amplitude):
    x = sine(1000, 0.5, amplitude=amplitude, rate=8000)
    y = decode(encode(x))
    assert y.shape == x.shape
    assert snr_db(x, y) > 30.0


def test_ulaw_and_alaw_differ():
    x = sine(1000, 0.02, amplitude=10000, rate=8000)
    assert g711.ulaw_encode(x) != g711.alaw_encode(x)
    # decoding with the wrong law is garbage
    assert snr_db(x, g711.alaw_decode(g711.ulaw_encode(x))) < 10.0

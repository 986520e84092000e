import numpy as np
import pytest

from media import g711
from media.codecs import (
    CODECS,
    G722_SPEC,
    PCMA,
    PCMU,
    CodecSpec,
    UnsupportedCodecError,
    decoder_for,
    encoder_for,
)
from media.frame import FRAME_SAMPLES
from tests.media.helpers import aligned_snr, frames_of, sine


def round_trip(name: str, pcm: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    enc = encoder_for(name)
    dec = decoder_for(name)
    payloads = [enc.encode(f) for f in frames_of(pcm)]
    out = np.concatenate([dec.decode(p) for p in payloads])
    return payloads, out


def test_specs():
    assert CODECS == {"PCMU": PCMU, "PCMA": PCMA, "G722": G722_SPEC}
    assert (PCMU.payload_type, PCMA.payload_type, G722_SPEC.payload_type) == (0, 8, 9)
    assert (PCMU.clock_rate, PCMA.clock_rate, G722_SPEC.clock_rate) == (8000, 8000, 8000)
    assert G722_SPEC.sample_rate == 16000
    assert [c.timestamp_step for c in CODECS.values()] == [160, 160, 160]
    assert CodecSpec("X", 96, 48000, 48000).timestamp_step == 960


@pytest.mark.parametrize("name", ["PCMU", "PCMA", "G722", "pcmu", "g722"])
def test_factories_return_fresh_instances_with_spec(name):
    enc1, enc2 = encoder_for(name), encoder_for(name)
    dec = decoder_for(name)
    assert enc1 is not enc2
    assert enc1.spec is CODECS[name.upper()]
    assert dec.spec is CODECS[name.upper()]


@pytest.mark.parametrize("factory", [decoder_for, encoder_for])
@pytest.mark.parametrize("name", ["OPUS", "G729", "", "telephone-event"])
def test_unsupported_codec(factory, name):
    with pytest.raises(UnsupportedCodecError) as info:
        factory(name)
    assert info.value.name == name
    assert isinstance(info.value, ValueError)
    assert "PCMU" in str(info.value)


@pytest.mark.parametrize("name", ["PCMU", "PCMA", "G722"])
def test_payload_size_is_160_bytes_per_20ms(name):
    enc = encoder_for(name)
    x = sine(1000, 1.0)
    sizes = {len(enc.encode(f)) for f in frames_of(x)}
    assert sizes == {160}


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_g711_payload_uses_its_own_law(name):
    """A steady-state packet of a loud tone decodes sensibly only with the matching law."""
    x = sine(500, 2.0, amplitude=12000)
    payloads, _ = round_trip(name, x)
    right = g711.ulaw_decode if name == "PCMU" else g711.alaw_decode
    wrong = g711.alaw_decode if name == "PCMU" else g711.ulaw_decode
    p = payloads[-1]
    assert np.abs(right(p)).max() == pytest.approx(12000, rel=0.1)
    assert not np.allclose(right(p), wrong(p), atol=500)


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_g711_decoder_output_length_tracks_input(name):
    dec = decoder_for(name)
    payload = g711.ulaw_encode(sine(1000, 0.02, rate=8000))
    total = 0
    for i in range(1, 101):
        out = dec.decode(payload)
        assert out.dtype == np.int16
        total += out.size
        # never ahead of real time, never more than ~2 resampler bursts behind
        assert total <= i * FRAME_SAMPLES
    assert total >= 100 * FRAME_SAMPLES - 2 * 1700


def test_g722_decoder_returns_320_samples_per_packet():
    enc, dec = encoder_for("G722"), decoder_for("G722")
    for f in frames_of(sine(1000, 0.2)):
        out = dec.decode(enc.encode(f))
        assert out.dtype == np.int16
        assert out.shape == (FRAME_SAMPLES,)
        assert out.flags.writeable


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_g711_round_trip_steady_state_snr(name):
    """After the first 1.5 s the G.711 path is a clean delayed copy of the input."""
    x = sine(1000, 3.0)
    _, y = round_trip(name, x)
    lag, snr = aligned_snr(x, y, start=24000, length=16000, max_lag=4000)
    assert snr > 20.0, f"lag {lag}: snr {snr:.1f} dB"


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_g711_round_trip_snr_after_priming(name):
    """Everything after the first 200 ms must be a delayed copy of the input."""
    x = sine(1000, 3.0)
    _, y = round_trip(name, x)
    lag, snr = aligned_snr(x, y, start=3200, length=36000, max_lag=4000)
    assert snr > 20.0, f"lag {lag}: snr {snr:.1f} dB"


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_g711_encoder_primes_with_silence_then_carries_signal(name):
    dec = g711.ulaw_decode if name == "PCMU" else g711.alaw_decode
    enc = encoder_for(name)
    levels = [dec(enc.encode(np.full(FRAME_SAMPLES, 4000, np.int16))) for _ in range(200)]
    assert np.abs(levels[0][:8]).max() <= 8  # the converter's short start-up delay is silence
    assert all(np.all(np.abs(lv - 4000) < 150) for lv in levels[2:])  # then the level, within 40 ms


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_g711_encoder_no_dropouts_after_first_audio(name):
    """A constant input level must never fall back to silence once it has started coming out."""
    dec = g711.ulaw_decode if name == "PCMU" else g711.alaw_decode
    enc = encoder_for(name)
    out = np.concatenate([dec(enc.encode(np.full(FRAME_SAMPLES, 4000, np.int16))) for _ in range(100)])
    first = int(np.argmax(out > 2000))
    assert first > 0
    dropouts = np.flatnonzero(out[first:] < 2000)
    assert dropouts.size == 0, f"silent samples at 8 kHz indices {(dropouts + first)[:5].tolist()}..."


def test_g722_round_trip_snr():
    x = sine(1000, 1.0)
    payloads, y = round_trip("G722", x)
    assert len(payloads) == 50
    assert y.size == x.size
    lag, snr = aligned_snr(x, y, start=1600, length=12800, max_lag=400)
    assert snr > 15.0, f"lag {lag}: snr {snr:.1f} dB"


def test_g722_delay_is_small_on_a_chirp():
    """A non-periodic signal pins down the codec delay: G.722 (QMF) is a few samples."""
    t = np.arange(16000) / 16000
    x = np.round(8000 * np.sin(2 * np.pi * (200 * t + 2500 * t**2))).astype(np.int16)
    _, y = round_trip("G722", x)
    lag, snr = aligned_snr(x, y, start=1600, length=8000, max_lag=400)
    assert lag < 40
    assert snr > 15.0


@pytest.mark.parametrize("name", ["PCMU", "PCMA", "G722"])
def test_silence_round_trip_is_quiet(name):
    _, y = round_trip(name, np.zeros(16000, dtype=np.int16))
    assert np.abs(y.astype(np.int32)).max() <= 64


def test_codec_state_is_per_instance():
    """Two G.722 encoders fed the same frames agree; ADPCM state makes a used one differ from a fresh one."""
    frames = frames_of(sine(700, 0.1))
    a, b = encoder_for("G722"), encoder_for("G722")
    assert [a.encode(f) for f in frames] == [b.encode(f) for f in frames]
    used = encoder_for("G722")
    for f in frames[:3]:
        used.encode(f)
    assert used.encode(frames[3]) != encoder_for("G722").encode(frames[3])

"""Template encryption at rest."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from biometrics.crypto import HEADER_BYTES, TemplateCipher, generate_key_hex, load_key
from biometrics.errors import TemplateIntegrityError, TemplateKeyError, TemplateKeyMissingError
from biometrics.voiceprint import ModelTag, Voiceprint, l2_normalize

TAG = ModelTag("resemblyzer-ge2e", "0.1.4+abc+pp1")
KEY = bytes(range(32))


@pytest.fixture
def voiceprint() -> Voiceprint:
    return Voiceprint(l2_normalize(np.random.default_rng(0).normal(size=256)), TAG)


def test_round_trip(voiceprint: Voiceprint) -> None:
    cipher = TemplateCipher(KEY)
    blob = cipher.seal(voiceprint, "cust-1")
    back = cipher.open(blob, "cust-1", TAG)
    assert np.array_equal(back.vector, voiceprint.vector) and back.model == TAG
    assert blob[0] == 1 and blob[1:5].hex() == cipher.key_id
    assert len(blob) == HEADER_BYTES + 256 * 4 + 16
    assert cipher.seal(voiceprint, "cust-1") != blob  # fresh nonce each time


def test_ciphertext_hides_the_embedding(voiceprint: Voiceprint) -> None:
    plain = voiceprint.vector.astype("<f4").tobytes()
    blob = TemplateCipher(KEY).seal(voiceprint, "cust-1")
    assert plain not in blob
    windows = {plain[i : i + 8] for i in range(0, len(plain) - 8, 4)}  # no two consecutive floats survive
    assert not any(blob[i : i + 8] in windows for i in range(len(blob) - 8))


def test_wrong_key(voiceprint: Voiceprint) -> None:
    blob = TemplateCipher(KEY).seal(voiceprint, "cust-1")
    other = TemplateCipher(bytes(32))
    with pytest.raises(TemplateKeyError) as exc:
        other.open(blob, "cust-1", TAG)
    assert exc.value.key_id_hint == TemplateCipher(KEY).key_id
    assert other.key_id in exc.value.reason
    assert "another key" in str(exc.value)


def test_associated_data_and_tampering(voiceprint: Voiceprint) -> None:
    cipher = TemplateCipher(KEY)
    blob = cipher.seal(voiceprint, "cust-1")
    with pytest.raises(TemplateIntegrityError) as exc:
        cipher.open(blob, "cust-2", TAG)  # copied to another customer
    assert exc.value.customer_id == "cust-2"
    with pytest.raises(TemplateIntegrityError):
        cipher.open(blob, "cust-1", ModelTag(TAG.model_id, "0.1.5+def+pp1"))  # presented as another model
    flipped = bytearray(blob)
    flipped[-20] ^= 1
    with pytest.raises(TemplateIntegrityError):
        cipher.open(bytes(flipped), "cust-1", TAG)
    with pytest.raises(TemplateIntegrityError, match="version"):
        cipher.open(b"\x02" + blob[1:], "cust-1", TAG)


def test_key_sources(tmp_path: Path) -> None:
    raw = tmp_path / "raw.key"
    raw.write_bytes(KEY)
    hexfile = tmp_path / "hex.key"
    hexfile.write_text(KEY.hex() + "\n")
    assert load_key(raw, "X", {}) == KEY
    assert load_key(hexfile, "X", {}) == KEY
    assert load_key(None, "K", {"K": KEY.hex()}) == KEY
    assert load_key(None, "K", {"K": base64.b64encode(KEY).decode()}) == KEY
    assert len(bytes.fromhex(generate_key_hex())) == 32
    assert TemplateCipher.from_sources(None, "K", {"K": KEY.hex()}).key_id == TemplateCipher(KEY).key_id


def test_missing_or_bad_keys(tmp_path: Path) -> None:
    missing = tmp_path / "none.key"
    with pytest.raises(TemplateKeyMissingError) as exc:
        load_key(missing, "HOTLINE_VOICEPRINT_KEY", {})
    assert exc.value.key_file == missing and str(missing) in str(exc.value)
    with pytest.raises(TemplateKeyMissingError) as exc2:
        load_key(None, "HOTLINE_VOICEPRINT_KEY", {})
    assert exc2.value.key_env == "HOTLINE_VOICEPRINT_KEY" and "HOTLINE_VOICEPRINT_KEY" in str(exc2.value)
    short = tmp_path / "short.key"
    short.write_text("abcd")
    with pytest.raises(TemplateKeyMissingError, match="64 hex"):
        load_key(short, "K", {})
    with pytest.raises(TemplateKeyMissingError):
        load_key(None, "K", {"K": "not-a-key"})


def test_sealed_bytes_open_only_for_the_same_purpose_and_owner() -> None:
    cipher = TemplateCipher(bytes(range(32)))
    blob = cipher.seal_bytes(b"landmarks", "replay-fingerprint", "cust-1")
    assert b"landmarks" not in blob and cipher.open_bytes(blob, "replay-fingerprint", "cust-1") == b"landmarks"
    with pytest.raises(TemplateIntegrityError, match="cust-2"):
        cipher.open_bytes(blob, "replay-fingerprint", "cust-2")
    with pytest.raises(TemplateIntegrityError, match="altered"):
        cipher.open_bytes(blob, "other-purpose", "cust-1")
    with pytest.raises(TemplateKeyError, match="another key"):
        TemplateCipher(bytes(32)).open_bytes(blob, "replay-fingerprint", "cust-1")

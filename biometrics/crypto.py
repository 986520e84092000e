"""Encryption of voiceprint templates at rest (AES-256-GCM).

Blob layout: ``version (1 byte) | key id (4 bytes) | nonce (12 bytes) | ciphertext + 16-byte tag``.
The plaintext is the embedding as little-endian float32. The associated data binds the blob to its
header, the customer id and the model (id and version), so a template copied to another customer
or presented as another model's fails authentication. The key id is the first 4 bytes of
``SHA-256("hotline-voiceprint-key-id" || key)``: it says *which* key sealed a blob without
revealing anything useful about the key. Keys come from a file or an environment variable, never
from the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from biometrics.errors import TemplateIntegrityError, TemplateKeyError, TemplateKeyMissingError
from biometrics.voiceprint import ModelTag, Voiceprint

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
HEADER_BYTES = 1 + 4 + NONCE_BYTES


def _parse_text_key(text: str) -> bytes | None:
    text = text.strip()
    try:
        if len(text) == 2 * KEY_BYTES:
            return bytes.fromhex(text)
        raw = base64.b64decode(text, validate=True)
        return raw if len(raw) == KEY_BYTES else None
    except (ValueError, binascii.Error):
        return None


def load_key(key_file: Path | None, key_env: str, environ: Mapping[str, str] | None = None) -> bytes:
    """The 256-bit key from ``key_file`` (32 raw bytes or 64 hex chars) or else from ``environ[key_env]``.

    ``environ`` defaults to ``os.environ``. Raises :class:`TemplateKeyMissingError` naming the source.
    """
    if key_file is not None:
        try:
            data = key_file.read_bytes()
        except OSError as exc:
            raise TemplateKeyMissingError(key_file, key_env, exc.strerror or str(exc)) from exc
        if len(data) == KEY_BYTES:
            return data
        try:
            key = bytes.fromhex(data.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise TemplateKeyMissingError(key_file, key_env, "expected 32 raw bytes or 64 hex characters")
        return key
    env = os.environ if environ is None else environ
    value = env.get(key_env)
    if not value:
        raise TemplateKeyMissingError(None, key_env, "not set")
    parsed = _parse_text_key(value)
    if parsed is None:
        raise TemplateKeyMissingError(None, key_env, "expected 64 hex characters or base64 of 32 bytes")
    return parsed


def generate_key_hex() -> str:
    """A fresh random key as 64 hex characters (for a key file or the environment variable)."""
    return secrets.token_hex(KEY_BYTES)


def key_id(key: bytes) -> bytes:
    """4-byte identifier of a key."""
    return hashlib.sha256(b"hotline-voiceprint-key-id" + key).digest()[:4]


class TemplateCipher:
    """Seals and opens voiceprint templates with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise TemplateKeyMissingError(None, "-", f"key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)
        self._key_id = key_id(key)

    @classmethod
    def from_sources(cls, key_file: Path | None, key_env: str, environ: Mapping[str, str] | None = None
                     ) -> TemplateCipher:
        """Cipher with the key from :func:`load_key`."""
        return cls(load_key(key_file, key_env, environ))

    @property
    def key_id(self) -> str:
        """Hex id of the loaded key (safe to log)."""
        return self._key_id.hex()

    @staticmethod
    def _aad(header: bytes, customer_id: str, model: ModelTag) -> bytes:
        meta = json.dumps([customer_id, model.model_id, model.version], ensure_ascii=False)
        return b"hotline-voiceprint\x00" + header + meta.encode("utf-8")

    def seal(self, voiceprint: Voiceprint, customer_id: str) -> bytes:
        """Encrypt ``voiceprint`` for ``customer_id`` (a fresh random nonce every time)."""
        header = bytes([FORMAT_VERSION]) + self._key_id + os.urandom(NONCE_BYTES)
        plain = voiceprint.vector.astype("<f4").tobytes()
        return header + self._aead.encrypt(header[5:], plain, self._aad(header, customer_id, voiceprint.model))

    def seal_bytes(self, plain: bytes, purpose: str, owner: str) -> bytes:
        """Encrypt other biometric data (e.g. a replay fingerprint) bound to ``purpose`` and ``owner``.

        Same blob layout as a template; a blob sealed for one purpose or owner does not open as another.
        """
        header = bytes([FORMAT_VERSION]) + self._key_id + os.urandom(NONCE_BYTES)
        return header + self._aead.encrypt(header[5:], plain, self._data_aad(header, purpose, owner))

    def open_bytes(self, blob: bytes, purpose: str, owner: str) -> bytes:
        """Decrypt a blob made by :meth:`seal_bytes` with the same ``purpose`` and ``owner``."""
        if len(blob) < HEADER_BYTES + 16 or blob[0] != FORMAT_VERSION:
            raise TemplateIntegrityError(owner, None, f"not a version-{FORMAT_VERSION} sealed blob")
        header, body = blob[:HEADER_BYTES], blob[HEADER_BYTES:]
        if header[1:5] != self._key_id:
            raise TemplateKeyError(header[1:5].hex(), f"sealed with another key; the loaded key has id {self.key_id}")
        try:
            return self._aead.decrypt(header[5:], body, self._data_aad(header, purpose, owner))
        except InvalidTag as exc:
            raise TemplateIntegrityError(owner, None, f"authentication failed: the {purpose} blob was altered, "
                                         "or belongs to another customer") from exc

    @staticmethod
    def _data_aad(header: bytes, purpose: str, owner: str) -> bytes:
        return b"hotline-sealed\x00" + header + json.dumps([purpose, owner], ensure_ascii=False).encode("utf-8")

    def open(self, blob: bytes, customer_id: str, model: ModelTag) -> Voiceprint:
        """Decrypt a blob made by :meth:`seal` for the same customer and model."""
        if len(blob) < HEADER_BYTES + 16 or blob[0] != FORMAT_VERSION:
            raise TemplateIntegrityError(customer_id, model, f"not a version-{FORMAT_VERSION} template blob")
        header, body = blob[:HEADER_BYTES], blob[HEADER_BYTES:]
        if header[1:5] != self._key_id:
            raise TemplateKeyError(header[1:5].hex(), f"sealed with another key; the loaded key has id {self.key_id}")
        try:
            plain = self._aead.decrypt(header[5:], body, self._aad(header, customer_id, model))
        except InvalidTag as exc:
            raise TemplateIntegrityError(customer_id, model, "authentication failed: the template was altered, "
                                         "or belongs to another customer or model") from exc
        return Voiceprint(np.frombuffer(plain, dtype="<f4").astype(np.float32), model)

"""Uploaded audio files to canonical PCM, with clear errors."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import HTTPException, UploadFile

from media.frame import Pcm
from media.prompt import PromptError, load_pcm

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


async def read_upload(upload: UploadFile) -> Pcm:
    """WAV or FLAC (any rate, any channel count) to 16 kHz mono int16; 413/422 on bad input."""
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    name = upload.filename or "upload"
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"{name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not data:
        raise HTTPException(422, f"{name}: empty file")
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in (".wav", ".flac") else ".bin"
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            return load_pcm(Path(tmp.name))
        except PromptError as exc:
            raise HTTPException(422, f"{name}: {exc.reason}") from None

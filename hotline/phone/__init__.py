"""One-call pjsua2 softphone used by ``hotline phone``."""

from hotline.phone.audio import AudioFileError, PreparedAudio, prepare_audio
from hotline.phone.softphone import (
    CODECS,
    CallOptions,
    CallOutcome,
    EndpointSettings,
    SoftphoneError,
    clock_rate_for,
    open_endpoint,
    place_call,
)

__all__ = [
    "CODECS",
    "AudioFileError",
    "CallOptions",
    "CallOutcome",
    "EndpointSettings",
    "PreparedAudio",
    "SoftphoneError",
    "clock_rate_for",
    "open_endpoint",
    "place_call",
    "prepare_audio",
]

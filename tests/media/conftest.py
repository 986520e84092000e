import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from media.prompt import load_pcm


@pytest.fixture(scope="session")
def espeak_speech(tmp_path_factory) -> np.ndarray:
    """'hello there' spoken by espeak-ng, as 16 kHz mono int16."""
    exe = shutil.which("espeak-ng")
    assert exe is not None, "espeak-ng is not installed (make test installs it)"
    wav: Path = tmp_path_factory.mktemp("speech") / "hello.wav"
    subprocess.run([exe, "-v", "en-us", "-w", str(wav), "hello there"], check=True, timeout=30)
    return load_pcm(wav)

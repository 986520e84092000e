"""Media layer: RTP, codecs, jitter buffer, VAD, prompts. Imports nothing else of Hotline."""

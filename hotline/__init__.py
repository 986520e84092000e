"""Hotline's command line: ``hotline serve`` and the admin, phone, model and voiceprint commands.

The top of the layers: may import every package, and reaches the web layer only through ``app``.
"""

__version__ = "0.1.0"

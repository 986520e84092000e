"""The composition root: the settings model composed from every package's settings, and the server that builds
and runs the parts (store, recognition, SIP thread, RTP, HTTP).

May import every package; only the CLI (``hotline``) imports it.
"""

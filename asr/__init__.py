"""Streaming speech recognition. Imports only ``media``'s frame type of Hotline."""

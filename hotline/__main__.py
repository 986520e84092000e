"""``python -m hotline``."""

from hotline.cli import main

main()

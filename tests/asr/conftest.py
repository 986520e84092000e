"""Fixtures of the model registry tests: a fake model download served on loopback."""

from tests.support.model_archive import _clean_env, cache_dir, fake_model_archive, serve, server  # noqa: F401  (fixtures)

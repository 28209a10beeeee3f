"""Top-level conftest: makes `tests.fakes` importable for the tests and the re-recording script."""

"""Helpers shared by the tests, imported as ``tests.helpers.<module>`` both in-process and by CLI
subprocesses (whose PYTHONPATH holds the repository root, see ``cli.make_env``)."""

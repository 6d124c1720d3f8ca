"""The suite runs on both cores already (pytest-xdist, two workers): ``ndcheck prove`` started
by a test keeps to one process instead of forking a Houdini partner (the CLI's default is two)."""

import os

os.environ.setdefault("NDCHECK_PROVE_WORKERS", "1")

"""``python -m ndcheck.cli``: the same entry point as the ``ndcheck`` console script."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())

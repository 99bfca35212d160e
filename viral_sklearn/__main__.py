"""``python -m viral_sklearn``: the ``viral-sklearn`` command."""

import sys

from .cli import main

sys.exit(main())

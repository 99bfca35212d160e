"""``python -m viral_sklearn.cli``: the ``viral-sklearn`` command."""

import sys

from . import main

sys.exit(main())

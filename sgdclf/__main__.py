"""``python -m sgdclf``: the sgdclf command line (see _cli.py)."""

import sys

from ._cli import main

sys.exit(main())

"""`python -m augsbert_core` = the `augsbert` CLI."""

import sys

from .entry import main

sys.exit(main())

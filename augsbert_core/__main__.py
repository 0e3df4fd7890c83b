"""`python -m augsbert_core` = the `augsbert` CLI."""

import sys

from .cli import main

sys.exit(main())

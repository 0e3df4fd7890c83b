"""`python -m augsbert_core.cli` = the `augsbert` CLI."""

import sys

from . import main

sys.exit(main())

"""``python -m align``: the command-line aligner (``align.cli``)."""
import sys

from align.cli import main

sys.exit(main())

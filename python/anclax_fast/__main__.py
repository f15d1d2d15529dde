"""``python -m anclax_fast``: the same as the ``anclax-fast`` command."""

import sys

from anclax_fast.cli import main

sys.exit(main())

"""``python -m benches``: run the benchmark suite (see benches/README.md)."""

from __future__ import annotations

import sys

from benches.harness.cli import main

if __name__ == "__main__":
    sys.exit(main())

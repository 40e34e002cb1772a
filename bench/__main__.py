"""`python -m bench`: run the pure-engine benchmark (see `bench.engine_bench`)."""

from __future__ import annotations

import sys

from bench.engine_bench import main

sys.exit(main())

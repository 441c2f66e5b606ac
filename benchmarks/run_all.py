"""Run every benchmark and print its figures: ``./dev bench``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backend_bench  # noqa: E402
import import_bench  # noqa: E402
import package_bench  # noqa: E402
import recon_surface_bench  # noqa: E402
import reconstruct_bench  # noqa: E402
import slice_bench  # noqa: E402
import sync_bench  # noqa: E402
import viewport_bench  # noqa: E402

if __name__ == "__main__":
    import_bench.main()
    print()
    slice_bench.main()
    print()
    viewport_bench.main()
    print()
    backend_bench.main()
    print()
    sync_bench.main()
    print()
    reconstruct_bench.main()
    print()
    recon_surface_bench.main()
    print()
    package_bench.main()

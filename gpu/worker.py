"""The reconstruction as a process of its own: ``python -m gpu.worker IMAGES OUT.glb ...``.

The app and the CLI run it this way (so Cancel can always stop it, even inside C++), and a
cloud worker runs the same entry point. It speaks JSON lines on stdout:

    {"event": "progress", "fraction": 0.42, "message": "dense: depth for 10 of 24 views"}
    {"event": "done", "report": {...}}
    {"event": "error", "message": "...", "photos": {...}}   (photos: the validation report, if refused)
    {"event": "cancelled"}

SIGTERM or SIGINT cancel it cleanly: the work folder is removed and no output is written.
Exit status: 0 done, 1 error, 130 cancelled, 70 a bug (its traceback on stderr)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import traceback
from pathlib import Path


def _emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpu.worker", description=__doc__.splitlines()[0])
    parser.add_argument("images")
    parser.add_argument("output")
    parser.add_argument("--quality", default="normal")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--report")
    args = parser.parse_args(argv)

    from dstudio_desktop.core.progress import CancelToken
    from dstudio_desktop.errors import Cancelled, DStudioError

    token = CancelToken()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: token.cancel())
    try:
        import pycolmap

        pycolmap.logging.minloglevel = 2  # COLMAP's own INFO lines would drown the progress
        from .pipeline import PhotoSetRefused, reconstruct

        result = reconstruct(Path(args.images), Path(args.output), args.quality, args.device,
                             Path(args.report) if args.report else None,
                             progress=lambda f, m: _emit({"event": "progress", "fraction": round(f, 4), "message": m}),
                             cancel=token)
    except Cancelled:
        _emit({"event": "cancelled"})
        return 130
    except PhotoSetRefused as err:
        _emit({"event": "error", "message": err.report.refused, "photos": err.report.to_json()})
        return 1
    except DStudioError as err:
        _emit({"event": "error", "message": str(err)})
        return 1
    except Exception as err:  # noqa: BLE001 - a bug: one line for the user, the traceback for us
        traceback.print_exc()
        _emit({"event": "error", "message": f"internal error in the reconstruction ({type(err).__name__}: {err})"})
        return 70
    _emit({"event": "done", "report": result.report})
    return 0


if __name__ == "__main__":
    sys.exit(main())

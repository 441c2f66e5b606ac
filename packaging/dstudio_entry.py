"""The frozen app's entry point (PyInstaller runs this as ``/opt/dstudio/dstudio``).

It is the ``dstudio`` command, and one more thing: long work runs in child processes started
as ``sys.executable -m MODULE`` (the reconstruction worker, ``jobs/reconstruct.py``; the
stand-ins' decimation, ``render/decimate.py``). In the
frozen app ``sys.executable`` is this program, so ``-m`` with one of the modules below runs that
module as ``python -m`` would. Nothing else is accepted after ``-m``: the app is not a general
Python interpreter.
"""

import sys

CHILD_MODULES = {"gpu.worker", "dstudio_desktop.render.decimate"}


def _run_child(module: str, args: list[str]) -> None:
    import runpy

    sys.argv = [sys.executable, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "-m" and sys.argv[2] in CHILD_MODULES:
        _run_child(sys.argv[2], sys.argv[3:])
        sys.exit(0)
    from dstudio_desktop.cli.main import main

    sys.exit(main())

"""dstudio render on a machine with no display at all: $DISPLAY unset and no Xvfb. It draws
through EGL (Mesa's surfaceless platform) or OSMesa and writes the same picture the viewport
would (it once aborted with exit 134 when Qt found no X server)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image


def _no_display_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")}
    return env


def test_render_without_any_display_writes_a_correct_image(cli, home: Path, tmp_path: Path, monkeypatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY"):
        monkeypatch.delenv(name, raising=False)
    pid = cli("sample", "--json").json()["id"]
    out = tmp_path / "lamp.png"
    res = cli("render", pid, "-o", str(out), "--camera", "Front", "--size", "400x300", "--json", timeout=180)
    assert res.returncode == 0, res.stderr
    assert res.json()["width"] == 400 and res.json()["height"] == 300
    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert image.shape == (300, 400, 3) and image.std() > 10
    # the Front camera looks at the lamp straight on: the red shade is on the middle column, above
    # the middle, and the background's gradient is darker at the bottom than the top
    column = image[:, 190:210]
    red = (column[..., 0] > 150) & (column[..., 0] > 3 * column[..., 1]) & (column[..., 0] > 3 * column[..., 2])
    rows = np.nonzero(red.any(axis=1))[0]
    assert len(rows) > 20 and rows.mean() < 150, rows
    assert image[5, 5].sum() > image[-5, 5].sum()


def test_the_headless_backend_is_chosen_and_named(home: Path, tmp_path: Path) -> None:
    """With no display the render picks EGL (or OSMesa) by itself and says which."""
    import subprocess
    import sys

    code = ("from dstudio_desktop.render.headless import choose_backend\n"
            "import sys; print(choose_backend()); print('PySide6' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_no_display_env(),
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    backend, qt = proc.stdout.split()
    assert backend in ("egl", "osmesa") and qt == "False"

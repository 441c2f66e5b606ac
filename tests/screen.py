"""A private X server and whole-screen pictures of it, for starting an app as a separate
program (the installed package, a benchmark's launch) and seeing what it shows.
Needs Xvfb (xvfb) and xwd (x11-apps)."""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import numpy as np


def read_xwd(data: bytes) -> np.ndarray:
    """An X window dump of a TrueColor screen (what ``xwd -root`` writes for Xvfb) as RGB uint8."""
    fields = np.frombuffer(data[:100], dtype=">u4")
    header_size, _, _, _, width, height, _, byte_order, _, _, _, bits, bytes_per_line = fields[:13].tolist()
    red, green, blue = fields[14:17].tolist()
    ncolors = int(fields[19])
    if bits != 32:
        raise ValueError(f"xwd: {bits} bits per pixel, expected 32")
    start = header_size + 12 * ncolors
    pixels = np.frombuffer(data[start:start + bytes_per_line * height], dtype="<u4" if byte_order == 0 else ">u4")
    pixels = pixels.reshape(height, bytes_per_line // 4)[:, :width]

    def channel(mask: int) -> np.ndarray:
        shift = (mask & -mask).bit_length() - 1
        return ((pixels & mask) >> shift).astype(np.uint8)

    return np.dstack([channel(red), channel(green), channel(blue)])


def screenshot(display: str, save: Optional[Path] = None) -> np.ndarray:
    """The whole screen of ``display`` as RGB (saved as a PNG too when ``save`` is given)."""
    dump = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True,
                          timeout=30).stdout
    image = read_xwd(dump)
    if save is not None:
        from PIL import Image

        Image.fromarray(image).save(save)
    return image


def shows_the_sample(image: np.ndarray) -> bool:
    """The app's window with the lamp drawn: many colours overall and a non-flat viewport below
    its middle (where the lamp's stand and base are, clear of the first-run card at the top)."""
    h, w = image.shape[:2]
    middle = image[h // 2: 3 * h // 4, w // 3: 2 * w // 3].astype(float)
    colours = len(np.unique(image.reshape(-1, 3)[::7], axis=0))
    return image.astype(float).std() > 20 and colours > 500 and middle.std() > 8


@contextmanager
def xvfb(size: str = "1280x800x24") -> Iterator[str]:
    """A fresh Xvfb on a free display number; yields the DISPLAY value."""
    number = 90 + os.getpid() % 400
    while Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
        number += 1
    display = f":{number}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", size, "-br", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb {display} did not start")
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        server.wait(10)

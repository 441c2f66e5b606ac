"""High-dynamic-range images in and out: Radiance .hdr (RGBE, flat or run-length encoded) and
OpenEXR scanline files (uncompressed, RLE, ZIPS or ZIP; half or float channels).

numpy only (no GL, no Qt): environments are read on worker threads and in headless code.
Every reader treats its input as hostile: sizes are checked against the bytes there are
before anything is allocated, and a file that is not what it says gives an ``HdrError``
naming the problem.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import DStudioError

MAX_PIXELS = 16384 * 8192     # a 16k equirect; larger is refused before it is decoded


class HdrError(DStudioError):
    """An HDR image that cannot be read."""


def read_hdr_image(data: bytes, name: str = "image") -> np.ndarray:
    """(H, W, 3) float32 linear radiance from the bytes of a .hdr or .exr file."""
    if data[:4] == b"\x76\x2f\x31\x01":
        return read_exr(data, name)
    if data[:2] == b"#?":
        return read_radiance(data, name)
    raise HdrError(f"{name}: not a Radiance .hdr or OpenEXR file")


def read_hdr_file(path: Path) -> np.ndarray:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise HdrError(f"{path}: cannot be read ({err.strerror or err})") from None
    return read_hdr_image(data, Path(path).name)


# -- Radiance RGBE ------------------------------------------------------------------------


def read_radiance(data: bytes, name: str = "image") -> np.ndarray:
    end = data.find(b"\n\n")
    if end < 0 or end > 65536:
        raise HdrError(f"{name}: the Radiance header has no end")
    header = data[:end].decode("latin-1", "replace")
    if "FORMAT=32-bit_rle_xyze" in header:
        raise HdrError(f"{name}: XYZE Radiance files are not supported (save it as RGBE)")
    line_end = data.find(b"\n", end + 2)
    if line_end < 0:
        raise HdrError(f"{name}: the Radiance file has no resolution line")
    res = data[end + 2:line_end].decode("latin-1", "replace").strip()
    match = re.fullmatch(r"([-+])Y (\d+) ([-+])X (\d+)", res)
    if match is None:
        raise HdrError(f"{name}: unsupported Radiance orientation {res!r}")
    height, width = int(match.group(2)), int(match.group(4))
    if not (0 < width and 0 < height and width * height <= MAX_PIXELS):
        raise HdrError(f"{name}: {width}x{height} is not a usable image size")
    body = memoryview(data)[line_end + 1:]
    rgbe = _radiance_pixels(body, width, height, name)
    image = _rgbe_to_float(rgbe)
    if match.group(1) == "+":
        image = image[::-1]
    if match.group(3) == "-":
        image = image[:, ::-1]
    return np.ascontiguousarray(image)


def _radiance_pixels(body: memoryview, width: int, height: int, name: str) -> np.ndarray:
    flat = width * height * 4
    raw = np.frombuffer(body, dtype=np.uint8)
    rle = 8 <= width < 32768 and len(raw) >= 4 and raw[0] == 2 and raw[1] == 2 and (raw[2] & 0x80) == 0
    if not rle:
        if len(raw) < flat:
            raise HdrError(f"{name}: truncated ({len(raw)} bytes of pixels for {width}x{height})")
        return raw[:flat].reshape(height, width, 4)
    out = np.empty((height, width, 4), dtype=np.uint8)
    pos = 0
    n = len(raw)
    data = bytes(body)
    for y in range(height):
        if pos + 4 > n or data[pos] != 2 or data[pos + 1] != 2 or ((data[pos + 2] << 8) | data[pos + 3]) != width:
            raise HdrError(f"{name}: scanline {y} is damaged")
        pos += 4
        for c in range(4):
            x = 0
            row = out[y, :, c]
            while x < width:
                if pos >= n:
                    raise HdrError(f"{name}: truncated in scanline {y}")
                count = data[pos]
                pos += 1
                if count > 128:
                    count -= 128
                    if x + count > width or pos >= n:
                        raise HdrError(f"{name}: scanline {y} overruns its width")
                    row[x:x + count] = data[pos]
                    pos += 1
                else:
                    if count == 0 or x + count > width or pos + count > n:
                        raise HdrError(f"{name}: scanline {y} overruns its width")
                    row[x:x + count] = np.frombuffer(data, np.uint8, count, pos)
                    pos += count
                x += count
    return out


def _rgbe_to_float(rgbe: np.ndarray) -> np.ndarray:
    e = rgbe[..., 3].astype(np.int32)
    scale = np.where(e > 0, np.ldexp(1.0, e - 136), 0.0).astype(np.float32)
    return rgbe[..., :3].astype(np.float32) * scale[..., None]   # as stb_image decodes: 1.0 stays 1.0


def write_radiance(image: np.ndarray) -> bytes:
    """The bytes of a run-length encoded Radiance RGBE file of (H, W, 3) linear radiance."""
    image = np.maximum(np.asarray(image, dtype=np.float64), 0.0)
    height, width = image.shape[:2]
    peak = image.max(axis=2)
    mantissa, exponent = np.frexp(peak)
    scale = np.where(peak > 1e-32, mantissa * 256.0 / np.maximum(peak, 1e-32), 0.0)
    rgbe = np.zeros((height, width, 4), dtype=np.uint8)
    rgbe[..., :3] = np.clip(np.floor(image * scale[..., None]), 0, 255).astype(np.uint8)
    rgbe[..., 3] = np.where(peak > 1e-32, exponent + 128, 0).astype(np.uint8)
    out = bytearray(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n" + f"-Y {height} +X {width}\n".encode())
    for y in range(height):
        out += bytes((2, 2, width >> 8, width & 255))
        for c in range(4):
            out += _rle(rgbe[y, :, c].tobytes())
    return bytes(out)


def _rle(row: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(row)
    while i < n:
        run = 1
        while i + run < n and run < 127 and row[i + run] == row[i]:
            run += 1
        if run >= 4:
            out += bytes((128 + run, row[i]))
            i += run
            continue
        start = i
        while i < n and i - start < 128:
            if i + 3 < n and row[i] == row[i + 1] == row[i + 2] == row[i + 3]:
                break
            i += 1
        out += bytes((i - start,)) + row[start:i]
    return bytes(out)


# -- OpenEXR ------------------------------------------------------------------------------

_EXR_COMPRESSION = {0: "none", 1: "rle", 2: "zips", 3: "zip", 4: "piz", 5: "pxr24", 6: "b44", 7: "b44a",
                    8: "dwaa", 9: "dwab"}
_LINES_PER_BLOCK = {"none": 1, "rle": 1, "zips": 1, "zip": 16}


def read_exr(data: bytes, name: str = "image") -> np.ndarray:
    """The R, G, B (or Y) channels of a scanline OpenEXR file as (H, W, 3) float32."""
    try:
        return _read_exr(data, name)
    except (struct.error, IndexError, ValueError, zlib.error) as err:
        raise HdrError(f"{name}: the EXR file is damaged ({err})") from None


def _read_exr(data: bytes, name: str) -> np.ndarray:
    version = struct.unpack_from("<I", data, 4)[0]
    if version & 0x200:
        raise HdrError(f"{name}: tiled EXR files are not supported (save it as scanlines)")
    if version & 0x1800:
        raise HdrError(f"{name}: multi-part or deep EXR files are not supported")
    pos = 8
    attrs: dict[str, tuple[str, bytes]] = {}
    while True:
        end = data.index(b"\0", pos)
        attr = data[pos:end].decode("latin-1")
        pos = end + 1
        if not attr:
            break
        end = data.index(b"\0", pos)
        kind = data[pos:end].decode("latin-1")
        pos = end + 1
        size = struct.unpack_from("<i", data, pos)[0]
        pos += 4
        if size < 0 or pos + size > len(data):
            raise HdrError(f"{name}: the EXR header is damaged")
        attrs[attr] = (kind, data[pos:pos + size])
        pos += size
    channels = _exr_channels(attrs["channels"][1])
    compression = _EXR_COMPRESSION.get(attrs["compression"][1][0], "unknown")
    if compression not in _LINES_PER_BLOCK:
        raise HdrError(f"{name}: EXR compression {compression.upper()} is not supported "
                       "(save it with ZIP, ZIPS, RLE or no compression, or as .hdr)")
    xmin, ymin, xmax, ymax = struct.unpack("<iiii", attrs["dataWindow"][1])
    width, height = xmax - xmin + 1, ymax - ymin + 1
    if not (0 < width and 0 < height and width * height <= MAX_PIXELS):
        raise HdrError(f"{name}: {width}x{height} is not a usable image size")
    lines = _LINES_PER_BLOCK[compression]
    blocks = (height + lines - 1) // lines
    offsets = struct.unpack_from(f"<{blocks}Q", data, pos)
    # channels are stored in name order, each line all of one channel then the next
    sizes = {"uint": 4, "half": 2, "float": 4}
    planes = {c: np.zeros((height, width), np.float32) for c, _ in channels}
    for offset in offsets:
        y, packed = struct.unpack_from("<ii", data, offset)
        raw = data[offset + 8:offset + 8 + packed]
        rows = min(lines, ymax + 1 - y)
        expected = rows * width * sum(sizes[t] for _, t in channels)
        block = _exr_decompress(raw, compression, expected)
        if len(block) != expected:
            raise HdrError(f"{name}: an EXR block has {len(block)} bytes, not {expected}")
        at = 0
        for r in range(rows):
            for cname, ctype in channels:
                n = width * sizes[ctype]
                dtype = {"half": "<f2", "float": "<f4", "uint": "<u4"}[ctype]
                planes[cname][y - ymin + r] = np.frombuffer(block, dtype, width, at).astype(np.float32)
                at += n
    names = {c.split(".")[-1].upper(): c for c, _ in channels}
    if all(k in names for k in "RGB"):
        image = np.stack([planes[names[k]] for k in "RGB"], axis=-1)
    elif "Y" in names:
        image = np.repeat(planes[names["Y"]][..., None], 3, axis=-1)
    else:
        raise HdrError(f"{name}: the EXR file has no R, G, B or Y channels")
    return np.ascontiguousarray(np.nan_to_num(np.maximum(image, 0.0), posinf=65504.0))


def _exr_channels(raw: bytes) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(raw) and raw[pos] != 0:
        end = raw.index(b"\0", pos)
        cname = raw[pos:end].decode("latin-1")
        ptype = struct.unpack_from("<i", raw, end + 1)[0]
        out.append((cname, {0: "uint", 1: "half", 2: "float"}.get(ptype, "float")))
        pos = end + 1 + 16
    return sorted(out)


def _exr_decompress(raw: bytes, compression: str, expected: int) -> bytes:
    if compression == "none" or len(raw) == expected:
        return raw
    if compression in ("zip", "zips"):
        data = np.frombuffer(zlib.decompress(raw, bufsize=expected), np.uint8)
    else:  # rle
        data = np.frombuffer(_exr_unrle(raw, expected), np.uint8)
    # undo the predictor, then the interleave of the two halves
    data = ((np.cumsum(data.astype(np.int64)) - 128 * np.arange(len(data))) % 256).astype(np.uint8)
    half = (len(data) + 1) // 2
    out = np.empty(len(data), np.uint8)
    out[0::2] = data[:half]
    out[1::2] = data[half:]
    return out.tobytes()


def _exr_unrle(raw: bytes, expected: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw) and len(out) < expected:
        count = struct.unpack_from("b", raw, i)[0]
        i += 1
        if count < 0:
            out += raw[i:i - count]
            i -= count
        else:
            out += raw[i:i + 1] * (count + 1)
            i += 1
    return bytes(out)


__all__ = ["HdrError", "read_exr", "read_hdr_file", "read_hdr_image", "read_radiance", "write_radiance"]

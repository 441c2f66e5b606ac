"""HDR environments: the built-in ones are what their code makes, .hdr and .exr files read back
what was written (and hostile ones are refused with a message), and the prepared light of a
uniform environment is that uniform value everywhere (the basis of the white furnace)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from dstudio_desktop.resources import resource

from dstudio_desktop.render import environments, ibl
from dstudio_desktop.render.hdr import HdrError, read_hdr_image, write_radiance


def test_the_shipped_environments_are_what_the_code_makes(tmp_path: Path) -> None:
    written = environments.write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.hdr" for n in environments.GENERATORS)
    for path in written:
        assert path.read_bytes() == resource("environments", path.name).read_bytes(), path.name


def test_radiance_round_trip_and_damage() -> None:
    rng = np.random.default_rng(1)
    image = (rng.random((16, 40, 3)) ** 3 * 50).astype(np.float32)
    image[3, 5] = 0.0
    back = read_hdr_image(write_radiance(image), "x.hdr")
    assert back.shape == image.shape
    # RGBE shares one exponent per pixel: each channel is within a step of the brightest's 256
    step = image.max(axis=2, keepdims=True) / 128
    assert (np.abs(back - image) <= step + 1e-6).all()
    data = write_radiance(image)
    with pytest.raises(HdrError, match="truncated|damaged|overruns"):
        read_hdr_image(data[: len(data) // 2], "cut.hdr")
    with pytest.raises(HdrError, match="not a usable image size"):
        read_hdr_image(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 99999999 +X 99999999\n", "huge.hdr")
    with pytest.raises(HdrError, match="not a Radiance"):
        read_hdr_image(b"\x89PNG....", "photo.png")


def _exr(image: np.ndarray, compression: int) -> bytes:
    """A minimal scanline OpenEXR file of half-float R, G, B channels (as OpenEXR writes them)."""
    h, w = image.shape[:2]

    def attr(name, kind, value):
        return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value

    channels = b"".join(c.encode() + b"\0" + struct.pack("<iBBBBii", 1, 0, 0, 0, 0, 1, 1) for c in "BGR") + b"\0"
    header = b"\x76\x2f\x31\x01" + struct.pack("<I", 2)
    header += attr("channels", "chlist", channels)
    header += attr("compression", "compression", bytes([compression]))
    header += attr("dataWindow", "box2i", struct.pack("<iiii", 0, 0, w - 1, h - 1))
    header += attr("displayWindow", "box2i", struct.pack("<iiii", 0, 0, w - 1, h - 1))
    header += attr("lineOrder", "lineOrder", b"\0")
    header += attr("pixelAspectRatio", "float", struct.pack("<f", 1.0))
    header += attr("screenWindowCenter", "v2f", struct.pack("<ff", 0, 0))
    header += attr("screenWindowWidth", "float", struct.pack("<f", 1.0)) + b"\0"
    lines = 16 if compression == 3 else 1
    blocks = []
    for y0 in range(0, h, lines):
        index = {"R": 0, "G": 1, "B": 2}
        raw = b"".join(image[y, :, index[c]].astype("<f2").tobytes()
                       for y in range(y0, min(y0 + lines, h)) for c in "BGR")
        if compression == 3:
            b = np.frombuffer(raw, np.uint8)
            inter = np.empty_like(b)
            half = (len(b) + 1) // 2
            inter[:half], inter[half:] = b[0::2], b[1::2]
            pred = inter.astype(np.int64)
            pred[1:] = (inter[1:].astype(np.int64) - inter[:-1].astype(np.int64) + 128) % 256
            raw = zlib.compress(pred.astype(np.uint8).tobytes())
        blocks.append(struct.pack("<ii", y0, len(raw)) + raw)
    offset = len(header) + 8 * len(blocks)
    table = b""
    for block in blocks:
        table += struct.pack("<Q", offset)
        offset += len(block)
    return header + table + b"".join(blocks)


@pytest.mark.parametrize("compression", [0, 3])
def test_exr_scanlines_uncompressed_and_zip(compression: int) -> None:
    rng = np.random.default_rng(2)
    image = (rng.random((20, 24, 3)) * 4).astype(np.float16).astype(np.float32)
    back = read_hdr_image(_exr(image, compression), "x.exr")
    assert np.allclose(back, image)


def test_exr_with_an_unsupported_compression_says_so() -> None:
    data = bytearray(_exr(np.ones((2, 2, 3), np.float32), 0))
    at = data.index(b"compression\0compression\0") + len(b"compression\0compression\0") + 4
    data[at] = 4   # PIZ
    with pytest.raises(HdrError, match="PIZ is not supported"):
        read_hdr_image(bytes(data), "piz.exr")


def test_a_uniform_environment_lights_uniformly() -> None:
    data = ibl.prepare(np.full((64, 128, 3), 1.0, np.float32))
    assert np.allclose(data.specular, 1.0, atol=1e-4) and np.allclose(data.radiance, 1.0)
    normals = ibl.texel_directions(16, 8).reshape(-1, 3)
    assert np.allclose(ibl.sh_basis(normals) @ data.sh, 1.0, atol=1e-3)     # irradiance / pi of radiance 1
    # the split sum's table conserves: a white metal (F0 = 1) reflects (almost) all of it when smooth
    assert ibl.ggx_fresnel_ibl(1.0, 0.05, np.ones(3))[0] == pytest.approx(1.0, abs=0.02)


def test_the_prepared_light_points_where_the_softbox_is() -> None:
    """The studio's key softbox sits where its Key light comes from; the diffuse light is
    brightest for a normal facing it."""
    from dstudio_desktop.core.lighting import builtin_presets

    key = next(lt for lt in builtin_presets()["studio"].lights if lt.name == "Key")
    towards = -np.asarray(key.direction)
    data = ibl.prepare(environments.builtin_image("studio"))
    facing = ibl.sh_basis(towards / np.linalg.norm(towards)) @ data.sh
    away = ibl.sh_basis(-towards / np.linalg.norm(towards)) @ data.sh
    assert facing.mean() > 3 * away.mean()

"""Cheap checks made before a parser touches a file.

They turn the ways a file can be hostile or broken (empty, huge, the wrong
format, a header that claims more elements than the file can hold, a zip bomb)
into a clear ``MeshFileError`` before anything allocates memory for it.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
from pathlib import Path

from ..errors import MeshFileError
from ..settings import max_import_bytes
from .formats import Format, format_for

# A zip (3MF) whose contents expand past this many times its size is treated as a bomb.
# Not a setting: it guards against hostile files, and no honest 3MF comes near it.
MAX_ZIP_RATIO = 200


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def check_file(path: Path, limit: int | None = None) -> Format:
    """Refuse a file that cannot be a model of its format; return that format."""
    fmt = format_for(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise MeshFileError(path, "no such file") from None
    except OSError as err:
        raise MeshFileError(path, f"cannot read: {err.strerror}") from None
    if path.is_dir():
        raise MeshFileError(path, "is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise MeshFileError(path, "permission denied")
    if st.st_size == 0:
        raise MeshFileError(path, "is empty (0 bytes)")
    limit = max_import_bytes() if limit is None else limit
    if st.st_size > limit:
        raise MeshFileError(
            path,
            f"is {_human(st.st_size)}, over the import limit of {_human(limit)} (raise DSTUDIO_MAX_IMPORT_MB to allow it)",
        )
    with open(path, "rb") as fh:
        head = fh.read(65536)
    SNIFFERS[fmt.key](path, head, st.st_size)
    return fmt


def _glb(path: Path, head: bytes, size: int) -> None:
    if len(head) < 20 or head[:4] != b"glTF":
        raise MeshFileError(path, "not a GLB file (it does not start with the 'glTF' magic)")
    version, length = struct.unpack_from("<II", head, 4)
    if version != 2:
        raise MeshFileError(path, f"GLB version {version} is not supported (only glTF 2.0)")
    if length > size:
        raise MeshFileError(path, f"truncated: the GLB header says {length} bytes but the file has {size}")


def _gltf(path: Path, head: bytes, size: int) -> None:
    if not head.lstrip()[:1] == b"{":
        raise MeshFileError(path, "not a glTF file (it is not a JSON object)")


def _stl(path: Path, head: bytes, size: int) -> None:
    binary_ok = False
    if size >= 84:
        (count,) = struct.unpack_from("<I", head, 80)
        binary_ok = size == 84 + 50 * count
    if binary_ok:
        return
    if head.lstrip()[:5].lower() == b"solid" and b"facet" in head[:4096] and b"\0" not in head[:4096]:
        return
    if size >= 84:
        (count,) = struct.unpack_from("<I", head, 80)
        if 84 + 50 * count > size:
            raise MeshFileError(
                path,
                f"not a valid STL: as binary STL its header claims {count} triangles ({84 + 50 * count} bytes) "
                f"but the file has {size} bytes, and it is not ASCII STL either",
            )
        raise MeshFileError(
            path, f"not a valid STL: neither ASCII STL nor binary STL ({size} bytes is not the size of the {count} triangles its header claims)"
        )
    raise MeshFileError(path, f"not a valid STL: too short ({size} bytes) for binary STL and not ASCII STL")


_PLY_SIZES = {
    "char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2, "uint16": 2,
    "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8,
}


def _ply(path: Path, head: bytes, size: int) -> None:
    if not head.startswith(b"ply"):
        raise MeshFileError(path, "not a PLY file (it does not start with 'ply')")
    end = head.find(b"end_header")
    if end < 0:
        raise MeshFileError(path, "PLY header has no 'end_header' in its first 64 KB")
    body_start = head.find(b"\n", end) + 1
    body = size - body_start
    fmt = None
    elements: list[tuple[str, int, int, int]] = []  # name, count, fixed bytes, property count
    for raw in head[:end].decode("ascii", "replace").splitlines()[1:]:
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            fmt = words[1] if len(words) > 1 else None
        elif words[0] == "element":
            if len(words) != 3 or not re.fullmatch(r"\d+", words[2]):
                raise MeshFileError(path, f"PLY header line {raw.strip()!r} is malformed")
            elements.append((words[1], int(words[2]), 0, 0))
        elif words[0] == "property" and elements:
            name, count, fixed, props = elements[-1]
            if len(words) >= 2 and words[1] == "list":
                width = _PLY_SIZES.get(words[2], 1) if len(words) > 2 else 1
            else:
                width = _PLY_SIZES.get(words[1] if len(words) > 1 else "", 0)
                if width == 0:
                    raise MeshFileError(path, f"PLY header has an unknown property type in {raw.strip()!r}")
            elements[-1] = (name, count, fixed + width, props + 1)
    if fmt not in ("ascii", "binary_little_endian", "binary_big_endian"):
        raise MeshFileError(path, f"PLY format {fmt!r} is not ascii or binary")
    need = 0
    for name, count, fixed, props in elements:
        # the least each element can take: its fixed-size bytes, or in ASCII one digit and a separator per property
        per = fixed if fmt != "ascii" else max(2 * props, 2)
        need += count * per
        if need > body:
            raise MeshFileError(
                path,
                f"PLY header claims {count} '{name}' elements, more than the {body} bytes after the header can hold",
            )
    if not any(name == "vertex" and count > 0 for name, count, _, _ in elements):
        raise MeshFileError(path, "PLY file declares no vertices")


def _text(path: Path, head: bytes, what: str) -> None:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return  # UTF-16 text, with its byte-order mark: zero bytes are half its characters
    if b"\0" in head:
        raise MeshFileError(path, f"not a valid {what} file (it contains binary data)")


def _obj(path: Path, head: bytes, size: int) -> None:
    _text(path, head, "OBJ")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = head.decode("utf-16", "replace").encode("utf-8", "replace")
    if not re.search(rb"^\s*v\s", head, re.MULTILINE) and size <= len(head):
        raise MeshFileError(path, "not a valid OBJ file (it has no 'v' vertex lines)")


def _off(path: Path, head: bytes, size: int) -> None:
    _text(path, head, "OFF")
    lines = [ln for ln in head.decode("ascii", "replace").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines or not re.fullmatch(r"(ST)?C?N?4?n?OFF", lines[0].split()[0]):
        raise MeshFileError(path, "not an OFF file (it does not start with 'OFF')")
    counts = lines[0].split()[1:] or (lines[1].split() if len(lines) > 1 else [])
    if len(counts) < 2 or not all(re.fullmatch(r"\d+", c) for c in counts[:2]):
        raise MeshFileError(path, "OFF header has no vertex and face counts")
    nv, nf = int(counts[0]), int(counts[1])
    if nv * 6 + nf * 8 > size:  # "0 0 0\n" and "3 0 1 2\n" are the shortest lines there can be
        raise MeshFileError(path, f"OFF header claims {nv} vertices and {nf} faces, more than {size} bytes can hold")


def _3mf(path: Path, head: bytes, size: int) -> None:
    if not zipfile.is_zipfile(path):
        raise MeshFileError(path, "not a 3MF file (3MF is a zip archive and this is not one)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError, ValueError) as err:
        # NotImplementedError: a zip version or feature Python's zipfile does not read
        raise MeshFileError(path, f"damaged 3MF archive: {err}") from None
    lying = next((i for i in infos if i.compress_size > size or i.header_offset > size), None)
    if lying is not None:
        raise MeshFileError(path, f"damaged 3MF archive: its entry {lying.filename[:100]!r} claims more bytes than the file has")
    total = sum(i.file_size for i in infos)
    if total > max(size * MAX_ZIP_RATIO, 64 * 1024 * 1024) or total > 8 * max_import_bytes():
        raise MeshFileError(path, f"3MF archive would expand to {_human(total)}; refusing it as a zip bomb")
    if not any(i.filename.lower().endswith(".model") for i in infos):
        raise MeshFileError(path, "3MF archive has no 3D model part (no *.model file)")


SNIFFERS = {"glb": _glb, "gltf": _gltf, "stl": _stl, "ply": _ply, "obj": _obj, "off": _off, "3mf": _3mf}

"""Seeded mutations of model files: byte flips, truncations, chunk copies and deletions, huge and
negative numbers in text, and for glTF JSON values of the wrong type, negative and huge indices,
missing keys, NaN and Infinity, and deep nesting. One ``random.Random`` drives everything, so a
seed and a case number always give the same mutant."""

from __future__ import annotations

import copy
import io
import json
import random
import re
import struct
import zipfile
from typing import Any

INTERESTING_BYTES = [0, 1, 0x7F, 0x80, 0xFF, ord("\n"), ord(" "), ord("-"), ord("9"), ord("{"), ord("[")]
INTERESTING_NUMBERS = ["0", "-1", "-5", "4294967295", "2147483648", "99999999999", "1e308", "-1e308", "nan", "inf",
                       "3.5", "1e-45", "18446744073709551617", "x"]
WRONG_VALUES: list[Any] = [[], {}, [1, 2], {"a": 1}, "text", "", -1, 0, 1, 2**31, 2**53, 1e300, -0.5, 3.5, True,
                           False, None, float("nan"), float("inf"), [[[]]], [None], ["x"], [0.1] * 17]


def byte_mutation(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    op = rng.randrange(8)
    if not b:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if op == 0:  # flip some bits
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif op == 1:  # set bytes to interesting values
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.choice(INTERESTING_BYTES)
    elif op == 2:  # truncate
        del b[rng.randrange(len(b)):]
    elif op == 3:  # copy a chunk elsewhere
        start = rng.randrange(len(b))
        chunk = b[start:start + rng.randint(1, 256)]
        at = rng.randrange(len(b) + 1)
        b[at:at] = chunk * rng.randint(1, 4)
    elif op == 4:  # delete a chunk
        start = rng.randrange(len(b))
        del b[start:start + rng.randint(1, 128)]
    elif op == 5:  # a huge or broken 32-bit little-endian word (binary counts and offsets)
        at = rng.randrange(max(len(b) - 3, 1))
        b[at:at + 4] = struct.pack("<I", rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x10000, len(b) * 7, 0x40000000]))
    elif op == 6:  # a number in text replaced
        return number_mutation(bytes(b), rng)
    else:  # random bytes spliced in
        at = rng.randrange(len(b) + 1)
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
    return bytes(b)


def number_mutation(data: bytes, rng: random.Random) -> bytes:
    matches = list(re.finditer(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?", data[:200_000]))
    if not matches:
        return byte_mutation(data, rng) if data else data
    for _ in range(rng.randint(1, 3)):
        m = rng.choice(matches)
        data = data[:m.start()] + rng.choice(INTERESTING_NUMBERS).encode() + data[m.end():]
        matches = list(re.finditer(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?", data[:200_000]))
        if not matches:
            break
    return data


def text_mutation(data: bytes, rng: random.Random) -> bytes:
    """Line-level changes for text formats (OBJ, MTL, OFF, ASCII PLY/STL), else byte changes."""
    lines = data.split(b"\n")
    op = rng.randrange(6)
    if op == 0 and len(lines) > 1:  # drop a line
        del lines[rng.randrange(len(lines))]
    elif op == 1:  # repeat a line
        i = rng.randrange(len(lines))
        lines[i:i] = [lines[i]] * rng.randint(1, 50)
    elif op == 2:  # swap two lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:
        return number_mutation(data, rng)
    elif op == 4:  # a keyword line with garbage after it
        i = rng.randrange(len(lines))
        word = lines[i].split(b" ")[0] if lines[i] else b"v"
        lines.insert(i, word + b" " + rng.choice([b"", b"nan nan nan", b"1 2", b"-99 0 0", b"1/2/3/4 5//",
                                                  b"\xff\xfe", b"a b c", b"0 0 0 0 0 0 0 0 0"]))
    else:
        return byte_mutation(data, rng)
    return b"\n".join(lines)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if len(prefix) > 12:  # an earlier round's deep nesting: go no deeper
        return out
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node[:20]):
            out.extend(_paths(v, prefix + (i,)))
    return out


def json_mutation(doc: Any, rng: random.Random) -> Any:
    """The document with one to three values replaced, keys removed, lists emptied or nested deeply."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        op = rng.randrange(6)
        if op == 0 and isinstance(parent, dict):
            del parent[last]
        elif op == 1:  # an index or count made negative, huge or just out of range
            parent[last] = rng.choice([-1, 2**32, 2**63, 7, 10**9, 20_000_000, 3])
        elif op == 2:  # deep nesting
            value: Any = 0
            for _ in range(rng.choice([50, 900, 2000])):
                value = [value]
            parent[last] = value
        elif op == 3 and isinstance(parent[last], list) and parent[last]:
            parent[last] = parent[last] * rng.randint(2, 5) if rng.random() < 0.5 else []
        else:
            parent[last] = rng.choice(WRONG_VALUES)
    return doc


def _json_text(doc: Any) -> bytes:
    # deep nesting needs a writer without recursion limits: build the text by hand when json refuses
    try:
        return json.dumps(doc).encode()
    except (RecursionError, ValueError):
        return b"[" * 100_000 + b"0" + b"]" * 100_000


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def mutate_gltf(data: bytes, rng: random.Random) -> bytes:
    doc = _loads(data)
    if doc is not None and rng.random() < 0.75:
        return _json_text(json_mutation(doc, rng))
    return byte_mutation(data, rng) if rng.random() < 0.5 else number_mutation(data, rng)


def mutate_glb(data: bytes, rng: random.Random) -> bytes:
    (js_len,) = struct.unpack_from("<I", data, 12) if len(data) >= 20 else (0,)
    doc = _loads(data[20:20 + js_len]) if data[:4] == b"glTF" else None
    if doc is not None and rng.random() < 0.6:
        blob = data[20 + js_len + 8:]
        if rng.random() < 0.2:
            blob = byte_mutation(blob, rng)
        js = _json_text(json_mutation(doc, rng))
        js += b" " * (-len(js) % 4)
        blob += b"\0" * (-len(blob) % 4)
        total = 12 + 8 + len(js) + 8 + len(blob)
        return (b"glTF" + struct.pack("<II", 2, total) + struct.pack("<I", len(js)) + b"JSON" + js
                + struct.pack("<I", len(blob)) + b"BIN\0" + blob)
    return byte_mutation(data, rng)


def mutate_3mf(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        return byte_mutation(data, rng)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
    except Exception:  # noqa: BLE001 - any way an earlier round broke the archive
        return byte_mutation(data, rng)  # an earlier round broke the archive itself
    if "3D/3dmodel.model" not in parts:
        return byte_mutation(data, rng)
    name = "3D/3dmodel.model" if rng.random() < 0.85 else rng.choice(sorted(parts))
    xml = parts[name]
    op = rng.randrange(4)
    if op == 0:
        xml = number_mutation(xml, rng)
    elif op == 1:  # remove or duplicate an element
        tags = list(re.finditer(rb"<(object|vertex|triangle|item|component|base|mesh|basematerials)\b[^>]*/?>", xml))
        if tags:
            m = rng.choice(tags)
            xml = xml[:m.start()] + (b"" if rng.random() < 0.5 else m.group(0) * 3) + xml[m.end():]
    elif op == 2:  # an attribute value replaced
        attrs = list(re.finditer(rb'(\w+)="([^"]*)"', xml))
        if attrs:
            m = rng.choice(attrs)
            xml = xml[:m.start(2)] + rng.choice([b"", b"-1", b"99", b"nan", b"#GG", b"1e999", b"x"]) + xml[m.end(2):]
    else:
        xml = byte_mutation(xml, rng)
    if rng.random() < 0.1:  # a component pointing at an object that is not there
        xml = xml.replace(b"</resources>", b'<object id="90" type="model"><components><component objectid="77"/>'
                          b"</components></object></resources>").replace(b"<build>", b'<build><item objectid="90"/>')
    parts[name] = xml
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in parts.items():
            zf.writestr(n, d)
    return buf.getvalue()


def mutate_text(data: bytes, rng: random.Random) -> bytes:
    return text_mutation(data, rng) if rng.random() < 0.7 else byte_mutation(data, rng)


def mutate_binary(data: bytes, rng: random.Random) -> bytes:
    return byte_mutation(data, rng) if rng.random() < 0.8 else number_mutation(data, rng)


# format -> (seed file, mutator, companion files that may be mutated too)
TARGETS = {
    "gltf": ("seed.gltf", mutate_gltf, ()),
    "glb": ("seed.glb", mutate_glb, ()),
    "obj": ("seed.obj", mutate_text, ("seed.mtl", "seed.png")),
    "stl-ascii": ("seed_ascii.stl", mutate_text, ()),
    "stl-binary": ("seed_binary.stl", mutate_binary, ()),
    "ply-ascii": ("seed_ascii.ply", mutate_text, ()),
    "ply-binary": ("seed_binary.ply", mutate_binary, ()),
    "off": ("seed.off", mutate_text, ()),
    "3mf": ("seed.3mf", mutate_3mf, ()),
}


def mutant(target: str, seeds: dict[str, bytes], seed: int, case: int) -> dict[str, bytes]:
    """File name -> bytes of mutant ``case`` of ``target`` (the main file, and companions, some mutated)."""
    rng = random.Random(f"{target}:{seed}:{case}")
    main, mutator, companions = TARGETS[target]
    files = {main: seeds[main], **{c: seeds[c] for c in companions}}
    if companions and rng.random() < 0.3:
        which = rng.choice(companions)
        files[which] = (text_mutation if which.endswith(".mtl") else byte_mutation)(files[which], rng)
    else:
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            try:
                files[main] = mutator(files[main], rng)
            except Exception:  # noqa: BLE001 - an earlier round left nothing the structured mutator can parse
                files[main] = byte_mutation(files[main], rng)
    return files

"""The types of the glTF 2.0 fields Design Studio reads, checked before the reader uses them.

A hand-written subset of the glTF 2.0 JSON schema (https://github.com/KhronosGroup/glTF,
specification/2.0/schema): only the fields the reader looks at, with their JSON types,
lower bounds and which array an index points into. A document that passes can be read
without a ``TypeError`` or ``IndexError`` anywhere: a value of the wrong shape becomes one
line naming where it is ("meshes[0].primitives[1].attributes.POSITION is a list, expected an
index into accessors") instead of an exception deep in the reader.
Unknown keys are ignored, as the specification asks of readers.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

# A check takes (value, where, document) and returns a problem, or None when the value fits.
Check = Callable[[Any, str, dict], Optional[str]]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def uint(value: Any, where: str, doc: dict) -> Optional[str]:
    if not _is_int(value) or value < 0:
        return f"{where} is {_kind(value)}, expected a whole number of at least 0"
    return None


def number(value: Any, where: str, doc: dict) -> Optional[str]:
    if not _is_number(value):
        return f"{where} is {_kind(value)}, expected a finite number"
    return None


def string(value: Any, where: str, doc: dict) -> Optional[str]:
    return None if isinstance(value, str) else f"{where} is {_kind(value)}, expected a string"


def boolean(value: Any, where: str, doc: dict) -> Optional[str]:
    return None if isinstance(value, bool) else f"{where} is {_kind(value)}, expected true or false"


def any_value(value: Any, where: str, doc: dict) -> Optional[str]:
    return None


def index(target: str) -> Check:
    """An index into the document's top-level array ``target``."""

    def check(value: Any, where: str, doc: dict) -> Optional[str]:
        items = doc.get(target)
        count = len(items) if isinstance(items, list) else 0
        if not _is_int(value):
            return f"{where} is {_kind(value)}, expected an index into {target}"
        if not 0 <= value < count:
            return f"{where} refers to {target}[{int(value)}], but there are {count} {target}"
        return None

    return check


def numbers(length: Optional[int] = None, lo: Optional[int] = None, hi: Optional[int] = None) -> Check:
    """A list of finite numbers: exactly ``length`` of them, or ``lo``..``hi``."""

    def check(value: Any, where: str, doc: dict) -> Optional[str]:
        want = f"{length} numbers" if length else "a list of numbers"
        if not isinstance(value, list):
            return f"{where} is {_kind(value)}, expected {want}"
        if length is not None and len(value) != length or lo is not None and len(value) < lo \
                or hi is not None and len(value) > hi:
            return f"{where} has {len(value)} values, expected {want if length else f'{lo} to {hi}'}"
        for i, v in enumerate(value):
            if not _is_number(v):
                return f"{where}[{i}] is {_kind(v)}, expected a finite number"
        return None

    return check


def list_of(item: Check) -> Check:
    def check(value: Any, where: str, doc: dict) -> Optional[str]:
        if not isinstance(value, list):
            return f"{where} is {_kind(value)}, expected a list"
        for i, v in enumerate(value):
            problem = item(v, f"{where}[{i}]", doc)
            if problem:
                return problem
        return None

    return check


def map_of(item: Check) -> Check:
    def check(value: Any, where: str, doc: dict) -> Optional[str]:
        if not isinstance(value, dict):
            return f"{where} is {_kind(value)}, expected an object"
        for k, v in value.items():
            problem = item(v, f"{where}.{k}", doc)
            if problem:
                return problem
        return None

    return check


def obj(**fields: Check) -> Check:
    """An object whose listed fields, where present, pass their checks."""

    def check(value: Any, where: str, doc: dict) -> Optional[str]:
        if not isinstance(value, dict):
            return f"{where} is {_kind(value)}, expected an object"
        for key, field in fields.items():
            if key in value:
                problem = field(value[key], f"{where}.{key}" if where else key, doc)
                if problem:
                    return problem
        return None

    return check


TEXTURE_TRANSFORM = obj(offset=numbers(2), rotation=number, scale=numbers(2), texCoord=uint)
TEXTURE_INFO = obj(index=index("textures"), texCoord=uint, scale=number, strength=number,
                   extensions=obj(KHR_texture_transform=TEXTURE_TRANSFORM))
MATERIAL = obj(
    name=any_value,
    pbrMetallicRoughness=obj(baseColorFactor=numbers(4), baseColorTexture=TEXTURE_INFO, metallicFactor=number,
                             roughnessFactor=number, metallicRoughnessTexture=TEXTURE_INFO),
    normalTexture=TEXTURE_INFO, occlusionTexture=TEXTURE_INFO, emissiveTexture=TEXTURE_INFO,
    emissiveFactor=numbers(3), alphaMode=string, alphaCutoff=number, doubleSided=boolean,
    extensions=obj(KHR_materials_emissive_strength=obj(emissiveStrength=number)),
)
PRIMITIVE = obj(attributes=map_of(index("accessors")), indices=index("accessors"), material=index("materials"),
                mode=uint, targets=list_of(map_of(index("accessors"))))
DOCUMENT = obj(
    scene=index("scenes"),
    scenes=list_of(obj(nodes=list_of(index("nodes")))),
    nodes=list_of(obj(children=list_of(index("nodes")), mesh=index("meshes"), camera=index("cameras"),
                      skin=index("skins"), matrix=numbers(16), translation=numbers(3), rotation=numbers(4),
                      scale=numbers(3), weights=numbers())),
    meshes=list_of(obj(primitives=list_of(PRIMITIVE), weights=numbers())),
    accessors=list_of(obj(bufferView=index("bufferViews"), byteOffset=uint, componentType=uint, count=uint,
                          type=string, normalized=boolean, sparse=any_value, min=numbers(lo=1, hi=16),
                          max=numbers(lo=1, hi=16))),
    bufferViews=list_of(obj(buffer=index("buffers"), byteOffset=uint, byteLength=uint, byteStride=uint)),
    buffers=list_of(obj(uri=string, byteLength=uint)),
    images=list_of(obj(uri=string, bufferView=index("bufferViews"), mimeType=string)),
    textures=list_of(obj(source=index("images"), sampler=index("samplers"), extensions=map_of(any_value))),
    samplers=list_of(obj(magFilter=uint, minFilter=uint, wrapS=uint, wrapT=uint)),
    materials=list_of(MATERIAL),
    cameras=list_of(map_of(any_value)),
    skins=list_of(map_of(any_value)),
    animations=list_of(map_of(any_value)),
    extensionsUsed=list_of(string),
    extensionsRequired=list_of(string),
    extensions=map_of(any_value),
)


def problem(doc: dict) -> Optional[str]:
    """The first field of ``doc`` whose type or index does not fit the glTF 2.0 schema, or None."""
    return DOCUMENT(doc, "", doc)

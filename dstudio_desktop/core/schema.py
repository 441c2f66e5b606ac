"""Validated, evented JSON documents with a schema version and migrations.

Every document the project stores (scene graph, materials, lighting, ...) is a
``Document``: a psygnal ``EventedModel`` (one event per field, emitted after
pydantic has validated the new value) whose JSON form carries
``schema_version``. ``load_document`` upgrades older JSON through registered
migrations before validating, and turns pydantic's errors into a
``DocumentError`` that names the offending field.
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any, Callable, ClassVar, TypeVar

from psygnal import EventedModel
from pydantic import AfterValidator, ConfigDict, Field, ValidationError

from ..errors import DocumentError

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def new_id() -> str:
    """A fresh lowercase uuid4 string, the id format of every entity."""
    return str(uuid.uuid4())


Id = Annotated[str, Field(pattern=UUID_PATTERN)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=256)]
Vec3 = tuple[Finite, Finite, Finite]
Rgb = tuple[Unit, Unit, Unit]
Rgba = tuple[Unit, Unit, Unit, Unit]


def _nonzero(v: tuple[float, ...]) -> tuple[float, ...]:
    if math.sqrt(sum(c * c for c in v)) < 1e-12:
        raise ValueError("must not be the zero vector")
    return v


Direction = Annotated[Vec3, AfterValidator(_nonzero)]


def require_unique(ids: list[str], what: str) -> None:
    """Raise (inside a validator) if an id appears twice."""
    seen: set[str] = set()
    for entity_id in ids:
        if entity_id in seen:
            raise ValueError(f"{what} id {entity_id} appears twice")
        seen.add(entity_id)


class Model(EventedModel):
    """Base of every model: strict fields, validated on assignment, evented."""

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        validate_default=True,
        frozen=False,
        defer_build=True,
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Document(Model):
    """A top-level JSON document stored in the project and in version snapshots."""

    DOC_NAME: ClassVar[str] = "document"
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: int = 1


D = TypeVar("D", bound=Document)
Migration = Callable[[dict[str, Any]], dict[str, Any]]
_MIGRATIONS: dict[tuple[str, int], Migration] = {}


def register_migration(doc_name: str, from_version: int) -> Callable[[Migration], Migration]:
    """Register a function that upgrades ``doc_name`` JSON from ``from_version`` to the next."""

    def decorate(fn: Migration) -> Migration:
        _MIGRATIONS[(doc_name, from_version)] = fn
        return fn

    return decorate


def unregister_migration(doc_name: str, from_version: int) -> None:
    _MIGRATIONS.pop((doc_name, from_version), None)


def upgrade(doc_name: str, data: dict[str, Any], target: int) -> dict[str, Any]:
    """Run the registered migrations until ``data`` is at ``target``."""
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise DocumentError(doc_name, "schema_version", "missing or not an integer")
    if version > target:
        raise DocumentError(
            doc_name,
            "schema_version",
            f"is {version}, newer than this app understands ({target}); update Design Studio",
        )
    while version < target:
        step = _MIGRATIONS.get((doc_name, version))
        if step is None:
            raise DocumentError(
                doc_name, "schema_version", f"no migration from version {version} to {version + 1}"
            )
        data = step(dict(data))
        data["schema_version"] = version + 1
        version += 1
    return data


def format_loc(loc: tuple[Any, ...]) -> str:
    """('nodes', 0, 'transform', 'scale', 1) -> 'nodes[0].transform.scale[1]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "tuple"):  # pydantic's internal steps
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def document_error(doc_name: str, err: ValidationError) -> DocumentError:
    first = err.errors()[0]
    problem = first["msg"]
    if problem.startswith("Value error, "):
        problem = problem[len("Value error, ") :]
    return DocumentError(doc_name, format_loc(tuple(first["loc"])), problem)


def load_document(cls: type[D], data: Any) -> D:
    """Validate (after migrating) a JSON value into a document of type ``cls``."""
    if not isinstance(data, dict):
        raise DocumentError(cls.DOC_NAME, "", f"must be a JSON object, not {type(data).__name__}")
    data = upgrade(cls.DOC_NAME, data, cls.SCHEMA_VERSION)
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise document_error(cls.DOC_NAME, err) from None


def validate_model(cls: type[Model], data: Any, name: str) -> Any:
    """Validate a non-document model (version, asset, annotation) with a named error."""
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise document_error(name, err) from None

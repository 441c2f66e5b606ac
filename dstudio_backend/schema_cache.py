"""What PostgREST calls its schema cache: the exposed schema's tables, views and
functions, read from the catalog so every identifier in a query is checked against it."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

SCHEMA = "public"


@dataclass
class Relation:
    name: str
    columns: dict[str, str]            # name -> SQL type as format_type prints it
    primary_key: list[str] = field(default_factory=list)


@dataclass
class Function:
    name: str
    args: dict[str, str]               # name -> SQL type, in order
    required: set[str]
    returns_set: bool


@dataclass
class SchemaCache:
    relations: dict[str, Relation]
    functions: dict[str, list[Function]]

    @classmethod
    async def load(cls, conn: psycopg.AsyncConnection) -> SchemaCache:
        relations: dict[str, Relation] = {}
        cur = await conn.execute(
            """select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p')
                order by c.relname, a.attnum""", (SCHEMA,))
        for rel, col, typ in await cur.fetchall():
            relations.setdefault(rel, Relation(rel, {})).columns[col] = typ
        cur = await conn.execute(
            """select c.relname, a.attname
                 from pg_index i join pg_class c on c.oid = i.indrelid
                 join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum = any (i.indkey)
                where n.nspname = %s and i.indisprimary
                order by c.relname, array_position(i.indkey, a.attnum)""", (SCHEMA,))
        for rel, col in await cur.fetchall():
            relations[rel].primary_key.append(col)
        functions: dict[str, list[Function]] = {}
        cur = await conn.execute(
            """select p.proname, coalesce(p.proargnames, '{}'), p.proargtypes::oid[], p.pronargdefaults,
                      p.proretset, coalesce(p.proargmodes, '{}')
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                where n.nspname = %s and p.prokind = 'f' and p.proname !~ '^_'""", (SCHEMA,))
        rows = await cur.fetchall()
        type_names = await _type_names(conn, {oid for row in rows for oid in row[2]})
        for name, argnames, argtypes, ndefaults, retset, modes in rows:
            if any(mode not in ("i", "b") for mode in modes):
                continue  # OUT/TABLE arguments: not callable with named inputs here
            names = list(argnames[: len(argtypes)])
            if len(names) != len(argtypes) or not all(names):
                continue  # unnamed arguments cannot be called by name
            args = {n: type_names[t] for n, t in zip(names, argtypes, strict=True)}
            required = set(names[: len(names) - ndefaults])
            functions.setdefault(name, []).append(Function(name, args, required, retset))
        return cls(relations, functions)


async def _type_names(conn: psycopg.AsyncConnection, oids: set[int]) -> dict[int, str]:
    if not oids:
        return {}
    cur = await conn.execute("select oid, format_type(oid, null) from pg_type where oid = any(%s)", (list(oids),))
    return dict(await cur.fetchall())

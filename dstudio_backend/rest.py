"""The PostgREST subset: tables and views (select with filters, order, limit/offset and
exact counts; insert, upsert, update, delete with ``Prefer: return=...``) and
``/rpc/<function>``. Every identifier is checked against the schema cache and every value
is a bound parameter cast to its column's type."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from .errors import ApiError
from .schema_cache import SCHEMA, Function, Relation, SchemaCache

RESERVED = {"select", "order", "limit", "offset", "on_conflict", "columns"}
OPERATORS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
SINGULAR = "application/vnd.pgrst.object+json"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_prefer(header: str | None) -> dict[str, str]:
    prefs: dict[str, str] = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key:
            prefs[key.strip()] = value.strip()
    return prefs


def _bad(message: str, code: str = "PGRST100", details: str | None = None, status: int = 400) -> ApiError:
    return ApiError(status, code, message, details)


def _column(rel: Relation, name: str) -> str:
    if name not in rel.columns:
        raise ApiError(400, "42703", f"column {rel.name}.{name} does not exist")
    return name


def _split_list(text: str) -> list[str]:
    """Splits ``a,"b,c",d`` as PostgREST does for in.(...) lists."""
    items, current, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return items


def _filter(rel: Relation, column: str, expression: str) -> tuple[sql.Composable, list[Any]]:
    col = sql.Identifier(_column(rel, column))
    typ = sql.SQL(rel.columns[column])
    negate = expression.startswith("not.")
    if negate:
        expression = expression[4:]
    op, dot, value = expression.partition(".")
    if not dot:
        raise _bad(f'"{column}={expression}" is not a filter: expected operator.value', "PGRST100")
    if op in OPERATORS:
        clause = sql.SQL("{} {} {}::{}").format(col, sql.SQL(OPERATORS[op]), sql.Placeholder(), typ)
        params = [value]
    elif op in ("like", "ilike"):
        clause = sql.SQL("{}::text {} {}").format(col, sql.SQL(op), sql.Placeholder())
        params = [value.replace("*", "%")]
    elif op == "in":
        if not (value.startswith("(") and value.endswith(")")):
            raise _bad(f"in filter on {column} needs a list in parentheses: in.(a,b)")
        items = _split_list(value[1:-1]) if value != "()" else []
        clause = sql.SQL("{} = any({}::{}[])").format(col, sql.Placeholder(), typ)
        params = [items]
    elif op == "is":
        keyword = {"null": "null", "true": "true", "false": "false", "unknown": "unknown"}.get(value.lower())
        if keyword is None:
            raise _bad(f"is filter on {column} takes null, true, false or unknown, not {value!r}")
        clause = sql.SQL("{} is {}").format(col, sql.SQL(keyword))
        params = []
    else:
        raise _bad(f"unknown operator {op!r} in filter on {column}", "PGRST100")
    if negate:
        clause = sql.SQL("not ({})").format(clause)
    return clause, params


@dataclass
class Query:
    where: sql.Composable
    params: list[Any]
    order: sql.Composable
    limit: int | None
    offset: int


def parse_query(rel: Relation, query: list[tuple[str, str]]) -> Query:
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    order: list[sql.Composable] = []
    limit, offset = None, 0
    for key, value in query:
        if key == "order":
            for term in value.split(","):
                parts = term.split(".")
                pieces = [sql.Identifier(_column(rel, parts[0]))]
                for modifier in parts[1:]:
                    words = {"asc": "asc", "desc": "desc", "nullsfirst": "nulls first", "nullslast": "nulls last"}
                    if modifier not in words:
                        raise _bad(f"unknown order modifier {modifier!r}")
                    pieces.append(sql.SQL(words[modifier]))
                order.append(sql.SQL(" ").join(pieces))
        elif key in ("limit", "offset"):
            try:
                number = int(value)
            except ValueError:
                raise _bad(f"{key} must be a whole number, not {value!r}") from None
            if number < 0:
                raise _bad(f"{key} must not be negative")
            if key == "limit":
                limit = number
            else:
                offset = number
        elif key in RESERVED:
            continue
        elif key in ("or", "and") or key.startswith(("not.or", "not.and")):
            raise _bad(f"logical filters ({key}) are not supported by this server")
        else:
            clause, values = _filter(rel, key, value)
            clauses.append(clause)
            params.extend(values)
    where = sql.SQL(" and ").join(clauses) if clauses else sql.SQL("true")
    order_sql = sql.SQL(" order by ") + sql.SQL(", ").join(order) if order else sql.SQL("")
    return Query(where, params, order_sql, limit, offset)


def select_list(rel: Relation, select: str | None) -> sql.Composable:
    if not select or select == "*":
        return sql.SQL("*")
    items = []
    for raw in select.split(","):
        item = raw.strip()
        if not item:
            continue
        if "(" in item:
            raise _bad(f"embedded resources ({item}) are not supported by this server")
        alias, colon, name = item.partition(":")
        if not colon:
            alias, name = item, item
        if item == "*":
            items.append(sql.SQL("*"))
            continue
        if not _IDENT.match(alias):
            raise _bad(f"bad column alias {alias!r}")
        items.append(sql.SQL("{} as {}").format(sql.Identifier(_column(rel, name)), sql.Identifier(alias)))
    return sql.SQL(", ").join(items) if items else sql.SQL("*")


def table(rel: Relation) -> sql.Composable:
    return sql.Identifier(SCHEMA, rel.name)


def build_select(rel: Relation, q: Query, select: str | None) -> tuple[sql.Composable, list[Any]]:
    page = sql.SQL("")
    params = list(q.params)
    if q.limit is not None:
        page += sql.SQL(" limit {}").format(sql.Placeholder())
        params.append(q.limit)
    if q.offset:
        page += sql.SQL(" offset {}").format(sql.Placeholder())
        params.append(q.offset)
    statement = sql.SQL(
        "select coalesce(json_agg(_r), '[]')::text, count(*) from (select {} from {} where {}{}{}) _r"
    ).format(select_list(rel, select), table(rel), q.where, q.order, page)
    return statement, params


def build_count(rel: Relation, q: Query) -> tuple[sql.Composable, list[Any]]:
    return sql.SQL("select count(*) from {} where {}").format(table(rel), q.where), list(q.params)


def _rows(body: Any) -> list[dict[str, Any]]:
    rows = body if isinstance(body, list) else [body]
    if not all(isinstance(row, dict) for row in rows):
        raise _bad("the body must be a JSON object or an array of objects", "PGRST102")
    return rows


def _write_columns(rel: Relation, rows: list[dict[str, Any]], columns_param: str | None) -> list[str]:
    if columns_param:
        names = [c.strip().strip('"') for c in columns_param.split(",") if c.strip()]
    else:
        names = []
        for row in rows:
            names.extend(k for k in row if k not in names)
    for name in names:
        if name not in rel.columns:
            raise ApiError(400, "PGRST204", f"Could not find the '{name}' column of '{rel.name}' in the schema cache")
    return names


def _returning(representation: bool, select: str | None, rel: Relation) -> sql.Composable:
    return select_list(rel, select) if representation else sql.SQL("1 as _")


def build_insert(rel: Relation, body: Any, prefs: dict[str, str], on_conflict: str | None,
                 columns_param: str | None, select: str | None) -> tuple[sql.Composable, list[Any]]:
    rows = _rows(body)
    names = _write_columns(rel, rows, columns_param)
    representation = prefs.get("return") == "representation"
    cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    conflict = sql.SQL("")
    resolution = prefs.get("resolution")
    if resolution in ("merge-duplicates", "ignore-duplicates"):
        keys = [k.strip() for k in on_conflict.split(",")] if on_conflict else rel.primary_key
        if not keys:
            raise _bad(f"{rel.name} has no primary key: pass on_conflict", "PGRST100")
        for k in keys:
            _column(rel, k)
        updates = [n for n in names if n not in keys]
        if resolution == "merge-duplicates" and updates:
            action = sql.SQL("do update set ") + sql.SQL(", ").join(
                sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n)) for n in updates)
        else:
            action = sql.SQL("do nothing")
        conflict = sql.SQL(" on conflict ({}) {}").format(sql.SQL(", ").join(map(sql.Identifier, keys)), action)
    if names:
        source = sql.SQL("({}) select {} from json_populate_recordset(null::{}, {}::json)").format(
            cols, cols, table(rel), sql.Placeholder())
        params: list[Any] = [json.dumps(rows)]
    else:
        source = sql.SQL("default values")
        params = []
        if len(rows) != 1:
            raise _bad("an insert of several rows needs at least one column")
    statement = sql.SQL(
        "with _w as (insert into {} {}{} returning {}) select coalesce(json_agg(_w), '[]')::text, count(*) from _w"
    ).format(table(rel), source, conflict, _returning(representation, select, rel))
    return statement, params


def build_update(rel: Relation, body: Any, q: Query, prefs: dict[str, str],
                 select: str | None) -> tuple[sql.Composable, list[Any]]:
    if not isinstance(body, dict):
        raise _bad("the body of an update must be a JSON object", "PGRST102")
    names = _write_columns(rel, [body], None)
    if not names:
        raise _bad("an update needs at least one column")
    cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    statement = sql.SQL(
        "with _w as (update {} set ({}) = (select {} from json_populate_record(null::{}, {}::json)) where {} "
        "returning {}) select coalesce(json_agg(_w), '[]')::text, count(*) from _w"
    ).format(table(rel), cols, cols, table(rel), sql.Placeholder(), q.where,
             _returning(prefs.get("return") == "representation", select, rel))
    return statement, [json.dumps(body), *q.params]


def build_delete(rel: Relation, q: Query, prefs: dict[str, str], select: str | None) -> tuple[sql.Composable, list[Any]]:
    statement = sql.SQL(
        "with _w as (delete from {} where {} returning {}) select coalesce(json_agg(_w), '[]')::text, count(*) from _w"
    ).format(table(rel), q.where, _returning(prefs.get("return") == "representation", select, rel))
    return statement, list(q.params)


def resolve_function(cache: SchemaCache, name: str, args: dict[str, Any]) -> Function:
    candidates = cache.functions.get(name)
    if not candidates:
        raise ApiError(404, "PGRST202", f"Could not find the function {SCHEMA}.{name} in the schema cache")
    given = set(args)
    for fn in candidates:
        if fn.required <= given <= set(fn.args):
            return fn
    wanted = " or ".join("(" + ", ".join(fn.args) + ")" for fn in candidates)
    raise ApiError(404, "PGRST202",
                   f"Could not find the function {SCHEMA}.{name}({', '.join(sorted(given))}) in the schema cache",
                   hint=f"it takes {wanted}")


def _rpc_value(value: Any, typ: str) -> Any:
    if value is None:
        return None
    if typ in ("json", "jsonb"):
        return json.dumps(value)
    if typ.endswith("[]"):
        if not isinstance(value, list):
            raise _bad(f"argument of type {typ} must be a JSON array")
        return [v if isinstance(v, str) or v is None else json.dumps(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def build_rpc(fn: Function, args: dict[str, Any]) -> tuple[sql.Composable, list[Any]]:
    named = sql.SQL(", ").join(
        sql.SQL("{} => {}::{}").format(sql.Identifier(n), sql.Placeholder(), sql.SQL(fn.args[n])) for n in args)
    call = sql.SQL("{}({})").format(sql.Identifier(SCHEMA, fn.name), named)
    params = [_rpc_value(v, fn.args[n]) for n, v in args.items()]
    if fn.returns_set:
        return sql.SQL("select coalesce(json_agg(_r), '[]')::text from {} _r").format(call), params
    return sql.SQL("select to_json({})::text").format(call), params

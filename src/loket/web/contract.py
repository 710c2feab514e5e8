"""The frozen /api/v1 contract: what clients of version 1 rely on may grow, never shrink.

`frozen` cuts the /api/v1 part out of an OpenAPI document (its paths and every schema they use);
docs/api/v1-frozen.json is that part as first frozen, extended only by `loket openapi --freeze`.
`breaks` names everything in it that a newer document removes, renames or narrows, from a client's
side: an operation, a parameter, a request or response field, a status code or media type; a type, a
value or a length a request could send and no longer may; a new required parameter or field; a
response field that was always there and may now be missing or of another type. Adding operations,
optional parameters and fields, status codes and values of a response's enum is growing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

PREFIX = "/api/v1/"
REF = "#/components/schemas/"
UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems")
LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems")


def frozen(document: dict[str, Any]) -> dict[str, Any]:
    """The /api/v1 paths of `document` and the schemas they reference, directly or not."""
    paths = {path: item for path, item in document["paths"].items() if path.startswith(PREFIX)}
    schemas = document.get("components", {}).get("schemas", {})
    used: set[str] = set()
    waiting = list(_references(paths))
    while waiting:
        name = waiting.pop()
        if name not in used:
            used.add(name)
            waiting.extend(_references(schemas[name]))
    return {
        "openapi": document["openapi"],
        "info": {"title": f"{document['info']['title']} /api/v1, frozen", "version": "1"},
        "paths": paths,
        "components": {"schemas": {name: schemas[name] for name in sorted(used)}},
    }


def breaks(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What `new` removes or narrows of `old`'s /api/v1 operations, one line each; empty if it only grows."""
    found: list[str] = []
    for path, item in old["paths"].items():
        for method, operation in item.items():
            name = f"{method.upper()} {path}"
            now = new["paths"].get(path, {}).get(method)
            if now is None:
                found.append(f"{name}: the operation is gone")
                continue
            compare = _Comparison(name, old, new, found)
            compare.parameters(operation.get("parameters", []), now.get("parameters", []))
            compare.request(operation.get("requestBody"), now.get("requestBody"))
            compare.responses(operation.get("responses", {}), now.get("responses", {}))
    return found


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith(REF):
            yield node["$ref"].removeprefix(REF)
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


class _Comparison:
    """One operation of the old document against the same in the new; problems go to `found`."""

    def __init__(self, operation: str, old: dict, new: dict, found: list[str]) -> None:
        self.operation = operation
        self.documents = (old, new)
        self.found = found
        self.seen: set[tuple[int, int, bool]] = set()

    def problem(self, where: str, what: str) -> None:
        self.found.append(f"{self.operation}: {where}: {what}")

    def parameters(self, old: list[dict], new: list[dict]) -> None:
        now = {_key(p): p for p in new}
        for parameter in old:
            where = f"{parameter['in']} parameter {parameter['name']}"
            current = now.pop(_key(parameter), None)
            if current is None:
                self.problem(where, "removed")
                continue
            if current.get("required") and not parameter.get("required"):
                self.problem(where, "now required")
            self.schema(where, parameter.get("schema", {}), current.get("schema", {}), sent=True)
        for (place, name), parameter in now.items():
            if parameter.get("required"):
                self.problem(f"{place} parameter {name}", "new and required")

    def request(self, old: dict | None, new: dict | None) -> None:
        if old is None:
            if new is not None and new.get("required"):
                self.problem("request body", "new and required")
            return
        if new is None:
            self.problem("request body", "removed")
            return
        if new.get("required") and not old.get("required"):
            self.problem("request body", "now required")
        for media_type, content in old.get("content", {}).items():
            current = new.get("content", {}).get(media_type)
            if current is None:
                self.problem(f"request body {media_type}", "no longer accepted")
                continue
            self.schema("request body", content.get("schema", {}), current.get("schema", {}), sent=True)

    def responses(self, old: dict, new: dict) -> None:
        for status, response in old.items():
            current = new.get(status)
            if current is None:
                self.problem(f"response {status}", "no longer declared")
                continue
            for media_type, content in response.get("content", {}).items():
                where = f"response {status} {media_type}"
                now = current.get("content", {}).get(media_type)
                if now is None:
                    self.problem(where, "no longer given")
                    continue
                self.schema(where, content.get("schema", {}), now.get("schema", {}), sent=False)

    def schema(self, where: str, old: dict, new: dict, sent: bool) -> None:
        """`sent`: the client sends what it describes (the new one must accept all the old one did);
        else the client receives it (the new one must give nothing the old one did not promise)."""
        old, new = self._resolve(old, 0), self._resolve(new, 1)
        key = (id(old), id(new), sent)
        if key in self.seen:  # a recursive schema
            return
        self.seen.add(key)
        old_kinds, new_kinds = self._kinds(old, 0), self._kinds(new, 1)
        if old_kinds and new_kinds:
            narrower, wider = (new_kinds, old_kinds) if sent else (old_kinds, new_kinds)
            missing = sorted(kind for kind in wider if not _covers(narrower, kind))
            if missing:
                self.problem(where, f"{'no longer accepts' if sent else 'may now be'} {', '.join(missing)}")
        elif sent and new_kinds:
            self.problem(where, f"now only {', '.join(sorted(new_kinds))}")
        elif not sent and old_kinds:
            self.problem(where, f"may now be anything, not only {', '.join(sorted(old_kinds))}")
        for kind in set(old_kinds) & set(new_kinds):
            self._compare(where, old_kinds[kind], new_kinds[kind], kind, sent)

    def _compare(self, where: str, old: dict, new: dict, kind: str, sent: bool) -> None:
        if sent:
            self._bounds(where, old, new)
            if "enum" in new and ("enum" not in old or any(v not in new["enum"] for v in old["enum"])):
                self.problem(where, f"accepts only {new['enum']}, not all of {old.get('enum', 'any value')}")
        if kind == "array":
            self.schema(f"{where}[]", old.get("items", {}), new.get("items", {}), sent)
        if kind != "object":
            return
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, schema in old_fields.items():
            field = f"{where}: field {name}" if ": field " not in where else f"{where}.{name}"
            if name not in new_fields:
                self.problem(field, "removed")
                continue
            if sent and name in new_required - old_required:
                self.problem(field, "now required")
            if not sent and name in old_required - new_required:
                self.problem(field, "may now be missing")
            self.schema(field, schema, new_fields[name], sent)
        if sent:
            for name in sorted(new_required - set(old_fields)):
                self.problem(f"{where}: field {name}", "new and required")

    def _bounds(self, where: str, old: dict, new: dict) -> None:
        for bound in UPPER_BOUNDS:
            if bound in new and (bound not in old or new[bound] < old[bound]):
                self.problem(where, f"{bound} {old.get(bound, 'none')} became {new[bound]}")
        for bound in LOWER_BOUNDS:
            if bound in new and (bound not in old or new[bound] > old[bound]):
                self.problem(where, f"{bound} {old.get(bound, 'none')} became {new[bound]}")
        if "pattern" in new and new["pattern"] != old.get("pattern"):
            self.problem(where, f"pattern {old.get('pattern', 'none')} became {new['pattern']}")

    def _resolve(self, schema: dict, side: int) -> dict:
        while isinstance(schema.get("$ref"), str):
            schema = self.documents[side]["components"]["schemas"][schema["$ref"].removeprefix(REF)]
        return schema

    def _kinds(self, schema: dict, side: int) -> dict[str, dict]:
        """The schema's JSON types, each with the (first) alternative of that type: `anyOf: [X, null]`
        is {"object": X, "null": {...}}. Empty: any type."""
        found: dict[str, dict] = {}
        choices = schema.get("anyOf") or schema.get("oneOf")
        for choice in choices or [schema]:
            choice = self._resolve(choice, side)
            if choices and (choice.get("anyOf") or choice.get("oneOf")):
                nested = self._kinds(choice, side)
                if not nested:
                    return {}
                for kind, alternative in nested.items():
                    found.setdefault(kind, alternative)
                continue
            kinds = choice.get("type") or ("object" if "properties" in choice else None)
            if kinds is None and ("enum" in choice or "const" in choice):
                kinds = sorted({_json_type(value) for value in choice.get("enum", [choice.get("const")])})
            if kinds is None:
                return {}  # anything
            for kind in [kinds] if isinstance(kinds, str) else kinds:
                found.setdefault(kind, choice)
        return found


def _key(parameter: dict) -> tuple[str, str]:
    """A parameter's place and name; a header's name in any case."""
    name = parameter["name"].lower() if parameter["in"] == "header" else parameter["name"]
    return parameter["in"], name


def _covers(kinds: dict[str, dict], kind: str) -> bool:
    return kind in kinds or (kind == "integer" and "number" in kinds)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]

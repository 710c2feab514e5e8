"""The API reference (docs/api.md) written from the OpenAPI document, so it never says other than the
code: every operation by tag, with its parameters, request fields, status codes and response fields."""

from __future__ import annotations

import re
from typing import Any

REF = "#/components/schemas/"
INTRO = """\
# The HTTP API

<!-- Generated from the app's OpenAPI document by `make api-docs` (`loket openapi --markdown`): change
the routes, then run it; a test fails while this file is out of date. -->

Every public operation of loket's HTTP API, grouped by tag. Bodies are JSON unless a media type says
otherwise; an error is `{"error": {"code": ..., "message": ...}}` with its HTTP status. The same in a
machine-readable form: [openapi.json](openapi.json), served at `/openapi.json`. What may change in
`/api/v1`, and how a deprecation is announced: [api-lifecycle.md](api-lifecycle.md).
"""


def reference(document: dict[str, Any]) -> str:
    """docs/api.md for `document`."""
    return _Reference(document).text()


class _Reference:
    def __init__(self, document: dict[str, Any]) -> None:
        self.schemas = document.get("components", {}).get("schemas", {})
        self.groups: dict[str, list[tuple[str, str, dict]]] = {}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                tag = (operation.get("tags") or ["other"])[0]
                self.groups.setdefault(tag, []).append((method.upper(), path, operation))

    def text(self) -> str:
        lines = [INTRO]
        lines += [
            f"- [{tag}](#{_anchor(tag)}): {len(ops)} operation{'s' if len(ops) > 1 else ''}"
            for tag, ops in self.groups.items()
        ]
        for tag, operations in self.groups.items():
            lines += ["", f"## {tag}"]
            for method, path, operation in operations:
                lines += self.operation(method, path, operation)
        return "\n".join(lines) + "\n"

    def operation(self, method: str, path: str, operation: dict) -> list[str]:
        lines = ["", f"### {method} {path}", "", f"**{operation.get('summary', '')}**"]
        if operation.get("deprecated"):
            lines += ["", "**Deprecated**: see its `Deprecation`, `Sunset` and `Link` headers."]
        if operation.get("description"):
            lines += ["", operation["description"].strip()]
        parameters = operation.get("parameters", [])
        if parameters:
            lines += [
                "",
                "Parameters:",
                "",
                "| Name | In | Type | Required | Description |",
                "|---|---|---|---|---|",
            ]
            lines += [
                _row(
                    f"`{p['name']}`",
                    p["in"],
                    self.type(p.get("schema", {})),
                    "yes" if p.get("required") else "no",
                    p.get("description", p.get("schema", {}).get("description", "")),
                )
                for p in parameters
            ]
        body = operation.get("requestBody")
        if body:
            for media_type, content in body.get("content", {}).items():
                required = ", required" if body.get("required") else ""
                lines += ["", f"Request body (`{media_type}`{required}):"]
                lines += self.fields(content.get("schema", {}))
        lines += ["", "Responses:", "", "| Status | Description | Media types |", "|---|---|---|"]
        responses = operation.get("responses", {})
        for status, response in responses.items():
            media = ", ".join(f"`{m}`" for m in response.get("content", {}))
            lines.append(_row(status, response.get("description", ""), media))
        for status, response in responses.items():
            if not status.startswith("2"):
                continue
            for media_type, content in response.get("content", {}).items():
                fields = self.fields(content.get("schema", {}))
                if fields:
                    lines += ["", f"Response {status} (`{media_type}`):", *fields]
        return lines

    def fields(self, schema: dict) -> list[str]:
        """A table of the schema's fields, nested ones by their path (`citations[].url`)."""
        rows = list(self._rows(schema, "", set()))
        if not rows:
            return ["", f"A {self.type(schema)}."] if schema else []
        header = ["", "| Field | Type | Required | Description |", "|---|---|---|---|"]
        return header + [_row(f"`{name}`", kind, required, text) for name, kind, required, text in rows]

    def _rows(self, schema: dict, prefix: str, seen: set[str]):
        schema, name = self._resolve(schema)
        if name in seen:  # a schema that contains itself is described once
            return
        seen = seen | {name} if name else seen
        if schema.get("type") == "array":
            yield from self._rows(schema.get("items", {}), f"{prefix}[]", seen)
            return
        for choice in schema.get("anyOf", []):
            yield from self._rows(choice, prefix, seen)
        required = set(schema.get("required", []))
        for field, child in schema.get("properties", {}).items():
            path = f"{prefix}.{field}" if prefix else field
            resolved, _ = self._resolve(child)
            text = child.get("description") or resolved.get("description", "")
            yield path, self.type(child), "yes" if field in required else "no", text
            yield from self._rows(child, path, seen)

    def type(self, schema: dict) -> str:
        schema, name = self._resolve(schema)
        choices = schema.get("anyOf") or schema.get("oneOf")
        if choices:
            return " or ".join(dict.fromkeys(self.type(choice) for choice in choices))
        if "enum" in schema:
            return " or ".join(f"`{value}`" for value in schema["enum"])
        if "const" in schema:
            return f"`{schema['const']}`"
        kind = schema.get("type", "object" if "properties" in schema else "any")
        if kind == "array":
            return f"array of {self.type(schema.get('items', {}))}"
        if kind == "object" and name:
            return name
        return f"{kind} ({schema['format']})" if "format" in schema else kind

    def _resolve(self, schema: dict) -> tuple[dict, str | None]:
        name = None
        while isinstance(schema.get("$ref"), str):
            name = schema["$ref"].removeprefix(REF)
            schema = self.schemas[name]
        return schema, name


def _row(*cells: str) -> str:
    return "| " + " | ".join(" ".join(str(cell).replace("|", "\\|").split()) for cell in cells) + " |"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")

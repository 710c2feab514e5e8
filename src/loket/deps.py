"""Typed request dependencies: a route names the service it needs by its type; the app factory provides it.

No route imports the composition root (`loket.services`), which imports every block: `create_app`
registers what it built with `provide`, and a route declares what it needs, e.g.
`CasesDep = Annotated[CaseService, provided(CaseService)]`. So a block depends only on the blocks it
really uses, and a test can provide something else.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Request

T = TypeVar("T")


def provide(app: FastAPI, *components: object) -> None:
    """Registers each component under its own type (None, an optional part left out, is skipped)."""
    app.state.components = {type(part): part for part in components if part is not None}


def component(request: Request, kind: type[T]) -> T:
    """The component of `kind`, for request helpers that are not routes themselves."""
    return _components(request)[kind]


def optional_component(request: Request, kind: type[T]) -> T | None:
    """The component of `kind`, or None when the configuration has none (no OpenID provider, say)."""
    return _components(request).get(kind)


def _components(request: Request) -> dict[type, object]:
    """The app's, unless a route dependency that ran before gave this request others (a sandbox
    partner's: `loket.partners.access`)."""
    return getattr(request.state, "components", None) or request.app.state.components


@cache
def provided(kind: type, optional: bool = False) -> Any:
    """A route dependency on the component of `kind`; one per kind, so FastAPI resolves it once."""

    def get(request: Request):
        return optional_component(request, kind) if optional else component(request, kind)

    return Depends(get)

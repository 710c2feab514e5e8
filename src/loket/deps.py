"""Typed request dependencies, so every block's routes say what they need by name."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from loket.services import Services


def _services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(_services)]

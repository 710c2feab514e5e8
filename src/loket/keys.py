"""Keys loket keeps: the configured one, or in development one made once and kept in the data folder
(so a restart keeps it); in production without one, none, and the feature that needs it is off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def kept_key(
    value: str | None, data_dir: Path, filename: str, new: Callable[[], bytes], production: bool
) -> bytes | None:
    if value:
        return value.strip().encode()
    if production:
        return None
    path = data_dir / filename
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(new())
        path.chmod(0o600)
    return path.read_bytes().strip()

"""Shipped defaults in data/: found beside the package (editable install) or inside it (wheel)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

_PKG = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    for candidate in (_PKG / "_data", _PKG.parent / "data"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("data/ with the shipped defaults is missing from the installation")


@cache
def load(name: str) -> dict[str, Any]:
    with (data_dir() / name).open("rb") as fh:
        return tomllib.load(fh)

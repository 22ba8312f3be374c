"""The screen of an area: built with the services and the signed-in person it works for."""

from __future__ import annotations

from typing import TypeVar

from crm_tui.services.context import Actor, Services
from crm_tui.ui.base import BaseScreen

T = TypeVar("T")


class AreaScreen(BaseScreen[T]):
    """A full screen of an area; ``self.svc`` and ``self.actor`` are what its service calls take."""

    def __init__(self, svc: Services, actor: Actor) -> None:
        super().__init__()
        self.svc = svc
        self.actor = actor

"""The command palette (Ctrl+P): every screen and action the signed-in person may use."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from crm_tui.i18n import _


class CrmCommands(Provider):
    def _commands(self) -> list[tuple[str, str, str]]:
        app = self.app
        return app.palette_commands()  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._commands():
            score = max(matcher.match(name), matcher.match(help_text) * 0.8, matcher.match(action) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=help_text)


def placeholder_text() -> str:
    return _("Search screens and actions …")

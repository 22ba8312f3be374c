"""Column mappings: checked, saved by name, loaded, listed, deleted (import.run, audited)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from crm_tui.domain import importing as rules
from crm_tui.domain.errors import NotFound, ValidationError
from crm_tui.i18n import _
from crm_tui.services.context import Actor, Services
from crm_tui.services.importing.model import known_fields
from crm_tui.store.queries import importing as q


def _check(mapping: Mapping[str, str]) -> dict[str, str]:
    problems = rules.check_mapping(mapping, known_fields())
    if problems:
        raise ValidationError("mapping", "The column mapping is not usable: {problems}",
                              problems=", ".join("name (required)" if p == "name" else p for p in problems))
    return dict(mapping)


def save_mapping(svc: Services, actor: Actor, name: str, mapping: Mapping[str, str]) -> None:
    svc.require(actor, "import.run")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationError("name", "Give the mapping a name of 1 to 60 characters")
    clean = _check(mapping)
    with svc.write(actor) as tx:
        q.save_mapping(tx.session, name, json.dumps(clean, ensure_ascii=False), tx.now, actor.staff_id)
        tx.audit("import.mapping_save", entity="import_mapping", entity_id=name, details={"mapping": clean})


def load_mapping(svc: Services, actor: Actor, name: str) -> dict[str, str]:
    with svc.read(actor, "import.run") as s:
        found = q.mapping_json(s, name)
    if found is None:
        raise NotFound("No saved column mapping named '{name}'.", name=name)
    return dict(json.loads(found))


def list_mappings(svc: Services, actor: Actor) -> list[str]:
    with svc.read(actor, "import.run") as s:
        return q.mapping_names(s)


def delete_mapping(svc: Services, actor: Actor, name: str) -> None:
    with svc.write(actor, "import.run") as tx:
        q.delete_mapping(tx.session, name)
        tx.audit("import.mapping_delete", entity="import_mapping", entity_id=name)



def header_label(fname: str) -> str:
    return _(known_fields().get(fname, fname))


def mapping_problems(mapping: Mapping[str, str]) -> list[str]:
    return rules.check_mapping(mapping, known_fields())


def parse_mapping_args(pairs: Sequence[str]) -> dict[str, str]:
    """``表头=field`` pairs from the command line."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValidationError("mapping", "Write a column mapping as HEADER=field, e.g. 手机=phone")
        h, f = pair.split("=", 1)
        out[h.strip()] = f.strip()
    return out


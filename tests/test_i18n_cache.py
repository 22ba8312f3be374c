"""The compiled copy of the catalogs (crm_tui.i18n._load) never serves stale or broken text."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from crm_tui.i18n import _HERE, _load


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "zh_CN"
    shutil.copytree(_HERE / "zh_CN", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_the_copy_is_made_and_gives_the_same_catalog(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    first = _load(folder)
    assert (folder / "__pycache__" / "catalog.marshal").is_file()
    assert _load(folder) == first
    assert first["Customer archives"] == "客户档案"


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    _load(folder)
    extra = folder / "zz_extra.toml"
    extra.write_text('"Only here" = "只在这里"\n', encoding="utf-8")
    assert _load(folder)["Only here"] == "只在这里"
    extra.write_text('"Only here" = "改过了"\n', encoding="utf-8")
    os.utime(extra, ns=(1, 1))  # same size, another mtime
    assert _load(folder)["Only here"] == "改过了"
    extra.unlink()
    assert "Only here" not in _load(folder)


def test_a_broken_copy_or_a_read_only_folder_falls_back_to_the_toml(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    good = _load(folder)
    (folder / "__pycache__" / "catalog.marshal").write_bytes(b"\x00garbage")
    assert _load(folder) == good
    shutil.rmtree(folder / "__pycache__")
    (folder / "__pycache__").write_text("not a folder")  # the copy cannot be written
    assert _load(folder) == good

"""The database key in the OS keyring.

Service ``crm-tui``, user name = the database file's absolute path, secret = the 32-byte raw key
as 64 hex characters, so an administrator can open the file with any SQLCipher 4 tool.

Nothing here ever puts the key into a message, a log or an exception: errors name the backend and
the database path only.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from crm_tui.domain.errors import CrmError

SERVICE = "crm-tui"
KEY_BYTES = 32
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class KeyringUnavailable(CrmError):
    exit_code = 10


class KeyMissing(CrmError):
    exit_code = 11


class KeyInvalid(CrmError):
    exit_code = 12


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def key_to_hex(key: bytes) -> str:
    return key.hex()


def key_from_hex(text: str) -> bytes:
    text = text.strip().lower()
    if not _HEX64.match(text):
        raise KeyInvalid("The stored key is not 64 hexadecimal characters.")
    return bytes.fromhex(text)


class KeyStore(Protocol):
    """Where keys are kept. ``describe`` names the backend for messages."""

    def describe(self) -> str: ...
    def check(self) -> None: ...
    def get(self, db_file: Path) -> bytes | None: ...
    def put(self, db_file: Path, key: bytes) -> None: ...


@dataclass
class MemoryKeyStore:
    """Keys held in this process only: the throwaway demo without a keyring, and tests."""

    keys: dict[str, bytes] = field(default_factory=dict)

    def describe(self) -> str:
        return "memory"

    def check(self) -> None:
        return None

    def get(self, db_file: Path) -> bytes | None:
        return self.keys.get(str(Path(db_file).resolve()))

    def put(self, db_file: Path, key: bytes) -> None:
        self.keys[str(Path(db_file).resolve())] = key


class OsKeyStore:
    """The operating system's keyring through the ``keyring`` package."""

    def __init__(self) -> None:
        import keyring

        self._keyring = keyring

    def _effective(self) -> object:
        """The backend that would hold the key: keyring's ChainerBackend writes to its first one."""
        backend = self._keyring.get_keyring()
        if type(backend).__name__ == "ChainerBackend" and getattr(backend, "backends", None):
            return backend.backends[0]
        return backend

    def describe(self) -> str:
        try:
            backend = self._effective()
        except Exception:  # noqa: BLE001 - a broken backend still needs a name
            return "unknown"
        return _backend_name(backend)

    def _advice(self) -> dict[str, str]:
        return {"backend": self.describe()}

    def _wrap(self, exc: Exception) -> CrmError:
        from keyring import errors as kerr

        if isinstance(exc, kerr.NoKeyringError):
            return KeyringUnavailable(
                "No usable keyring backend (found: {backend}). Start a Secret Service such as "
                "gnome-keyring (Linux), or use macOS Keychain / Windows Credential Locker, then try again.",
                **self._advice(),
            )
        if isinstance(exc, kerr.KeyringLocked):
            return KeyringUnavailable(
                "The keyring ({backend}) is locked. Unlock it (log in to the desktop session, or "
                "unlock the login keyring) and try again.",
                **self._advice(),
            )
        return KeyringUnavailable(
            "The keyring ({backend}) could not be used: {reason}. Check that the Secret Service "
            "(D-Bus session and gnome-keyring) is running and unlocked.",
            reason=type(exc).__name__,
            **self._advice(),
        )

    def check(self) -> None:
        """Fail with a clear message unless a real backend answers a read."""
        from keyring.backends import fail

        try:
            backend = self._keyring.get_keyring()
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None
        chainer_empty = type(backend).__name__ == "ChainerBackend" and not getattr(backend, "backends", [1])
        if isinstance(backend, fail.Keyring) or chainer_empty:
            from keyring.errors import NoKeyringError

            raise self._wrap(NoKeyringError()) from None
        effective = self._effective()
        if _is_file_backend(effective) and not os.environ.get("PYTHON_KEYRING_BACKEND"):
            # keyrings.alt's file backends are found automatically when no real keyring answers;
            # the key would then sit in a plain file beside the database's owner. Only an explicit
            # choice (PYTHON_KEYRING_BACKEND) may use them.
            raise KeyringUnavailable(
                "Only a file keyring ({backend}) was found, which would keep the database key in a plain "
                "file; crm-tui refuses it. Start a Secret Service such as gnome-keyring (Linux), or use "
                "macOS Keychain / Windows Credential Locker, then try again.",
                backend=_backend_name(effective),
            )
        try:
            self._keyring.get_password(SERVICE, "__crm_tui_probe__")
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None

    def get(self, db_file: Path) -> bytes | None:
        try:
            secret = self._keyring.get_password(SERVICE, str(Path(db_file).resolve()))
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None
        if secret is None:
            return None
        return key_from_hex(secret)

    def put(self, db_file: Path, key: bytes) -> None:
        try:
            self._keyring.set_password(SERVICE, str(Path(db_file).resolve()), key_to_hex(key))
        except Exception as exc:  # noqa: BLE001
            raise self._wrap(exc) from None


def _backend_name(backend: object) -> str:
    name = type(backend).__module__ + "." + type(backend).__name__
    return name.removeprefix("keyring.backends.")


def _is_file_backend(backend: object) -> bool:
    return type(backend).__module__.startswith("keyrings.alt")


# -- recovery codes ---------------------------------------------------------------------------
# The key as 64 hex digits, grouped 4 by 4 in 4 lines, with a 4-digit check group (the first two
# bytes of SHA-256 of the key) so a mistyped code is caught before it is tried on the database.

def recovery_code(key: bytes) -> str:
    import hashlib

    hexkey = key.hex().upper()
    groups = [hexkey[i : i + 4] for i in range(0, 64, 4)]
    check = hashlib.sha256(key).hexdigest()[:4].upper()
    lines = [" ".join(groups[i : i + 4]) for i in range(0, 16, 4)]
    return "\n".join(lines) + "\n" + check


def parse_recovery_code(text: str) -> bytes:
    import hashlib

    digits = re.sub(r"[\s\-]", "", text).lower()
    if not re.fullmatch(r"[0-9a-f]*", digits):
        raise KeyInvalid("The recovery code may contain only the digits 0-9 and letters A-F.")
    if len(digits) not in (64, 68):
        raise KeyInvalid(
            "The recovery code has {count} characters; it needs 64 (plus the 4-character check group).",
            count=len(digits),
        )
    key = bytes.fromhex(digits[:64])
    if len(digits) == 68 and hashlib.sha256(key).hexdigest()[:4] != digits[64:]:
        raise KeyInvalid("The recovery code's check group does not match: a character was mistyped.")
    return key

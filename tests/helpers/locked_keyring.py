"""A keyring backend whose collection is locked, for ``PYTHON_KEYRING_BACKEND=tests.helpers.locked_keyring.LockedKeyring``."""

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked


class LockedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service, username):  # type: ignore[no-untyped-def]
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):  # type: ignore[no-untyped-def]
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):  # type: ignore[no-untyped-def]
        raise KeyringLocked("Failed to unlock the collection!")

"""A second, independent reader of the SQLCipher 4 file format (default settings, raw key).

Written from SQLCipher's published format, with Python's hashlib/hmac and the ``cryptography``
package's AES -- no SQLCipher code involved. It checks every page's HMAC and writes a plain SQLite
file that Python's own sqlite3 can open, so a test can prove that "the key taken from the keyring
opens the file" without trusting the library that wrote it.

SQLCipher 4 defaults: 4096-byte pages; page 1 starts with the 16-byte KDF salt instead of the
SQLite header; each page ends with a reserve of 80 bytes = 16-byte IV + 64-byte HMAC-SHA512.
With a raw key (``x'<64 hex>'``) the key is the AES-256 key itself; the HMAC key is
PBKDF2-HMAC-SHA512(key, salt XOR 0x3a, 2 iterations, 32 bytes). The HMAC covers the page's
ciphertext, its IV and the page number as 4 little-endian bytes. Encryption is AES-256-CBC.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE_SIZE = 4096
SALT_SIZE = 16
IV_SIZE = 16
HMAC_SIZE = 64
RESERVE = IV_SIZE + HMAC_SIZE  # 80, already a multiple of the AES block
SQLITE_HEADER = b"SQLite format 3\x00"


class HmacMismatch(ValueError):
    pass


def decrypt(src: Path, key: bytes, dst: Path, page_size: int = PAGE_SIZE) -> int:
    """Decrypt ``src`` into a plain SQLite file ``dst``. Returns the number of pages."""
    data = Path(src).read_bytes()
    if len(data) == 0 or len(data) % page_size:
        raise ValueError(f"{src}: size {len(data)} is not a multiple of {page_size}")
    salt = data[:SALT_SIZE]
    hmac_key = hashlib.pbkdf2_hmac("sha512", key, bytes(b ^ 0x3A for b in salt), 2, 32)
    out = bytearray()
    pages = len(data) // page_size
    for index in range(pages):
        pgno = index + 1
        page = data[index * page_size:(index + 1) * page_size]
        start = SALT_SIZE if pgno == 1 else 0
        end = page_size - RESERVE
        ciphertext, iv = page[start:end], page[end:end + IV_SIZE]
        mac = page[end + IV_SIZE:end + IV_SIZE + HMAC_SIZE]
        expected = hmac.new(hmac_key, ciphertext + iv + pgno.to_bytes(4, "little"), hashlib.sha512).digest()
        if not hmac.compare_digest(mac, expected):
            raise HmacMismatch(f"page {pgno}: HMAC does not match (wrong key or damaged page)")
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        plain = decryptor.update(ciphertext) + decryptor.finalize()
        if pgno == 1:
            plain = SQLITE_HEADER + plain
            if int.from_bytes(plain[16:18], "big") != page_size or plain[20] != RESERVE:
                raise ValueError("decrypted header does not describe a SQLCipher 4 default page layout")
        out += plain + bytes(RESERVE)
    Path(dst).write_bytes(bytes(out))
    return pages

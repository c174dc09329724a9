"""Encrypting a whole archive with AES-256-GCM, in chunks, so an archive of any size streams
through a Pi's memory.

Layout: MAGIC, a random 16-byte salt, then frames of (1-byte last flag, 4-byte length,
ciphertext + tag). Each archive gets its own key, HKDF(BACKUP_ENCRYPTION_KEY, salt), so the
nonces can simply count frames; the last flag is part of the nonce, so cutting frames off the
end, reordering or splicing them fails to decrypt (the STREAM construction).
"""

import io
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"TOOLCRIB-AESGCM1"
_SALT = 16
_CHUNK = 1024 * 1024
_FRAME = struct.Struct(">BI")


class WrongKey(Exception):
    """The archive does not decrypt with this key (or was changed after it was encrypted)."""


class Truncated(Exception):
    """The archive ends before its last frame."""


def is_sealed(path) -> bool:
    with open(path, "rb") as file:
        return file.read(len(MAGIC)) == MAGIC


def _cipher(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"toolcrib backup archive v1"
    ).derive(key)
    return AESGCM(derived)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class Writer(io.RawIOBase):
    """A write-only file that encrypts what is written to `raw`; `finish()` writes the last
    frame (tarfile does not close a file it was handed)."""

    def __init__(self, raw, key: bytes):
        salt = os.urandom(_SALT)
        raw.write(MAGIC + salt)
        self._raw, self._aead, self._counter = raw, _cipher(key, salt), 0
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        if len(self._buffer) > _CHUNK:
            # Whole chunks out, the rest kept: the last frame must stay for finish().
            whole = (len(self._buffer) - 1) // _CHUNK * _CHUNK
            view = memoryview(self._buffer)
            for start in range(0, whole, _CHUNK):
                self._frame(view[start : start + _CHUNK], last=False)
            view.release()
            del self._buffer[:whole]
        return len(data)

    def finish(self) -> None:
        self._frame(self._buffer, last=True)
        self._buffer = bytearray()

    def _frame(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._counter, last), bytes(plain), MAGIC)
        self._raw.write(_FRAME.pack(last, len(sealed)) + sealed)
        self._counter += 1


class Reader(io.RawIOBase):
    """A read-only file of the decrypted archive. Raises WrongKey at the first frame that does
    not authenticate and Truncated when the file ends before the last frame."""

    def __init__(self, raw, key: bytes):
        head = raw.read(len(MAGIC) + _SALT)
        if head[: len(MAGIC)] != MAGIC or len(head) != len(MAGIC) + _SALT:
            raise Truncated
        self._raw, self._aead = raw, _cipher(key, head[len(MAGIC) :])
        self._buffer, self._at, self._counter, self._done = b"", 0, 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while self._at == len(self._buffer) and not self._done:
            self._next_frame()
        n = min(len(target), len(self._buffer) - self._at)
        target[:n] = memoryview(self._buffer)[self._at : self._at + n]
        self._at += n
        return n

    def drain(self) -> None:
        """Read to the end, so a missing or changed last frame is noticed even when the reader
        of the plaintext stopped early (a tar stream ends with padding nobody reads)."""
        while not self._done:
            self._next_frame()
        if self._raw.read(1):
            raise WrongKey  # bytes after the last frame: not what we wrote

    def _next_frame(self) -> None:
        header = self._raw.read(_FRAME.size)
        if len(header) < _FRAME.size:
            raise Truncated
        last, size = _FRAME.unpack(header)
        sealed = self._raw.read(size)
        if len(sealed) < size or size > _CHUNK + 16:
            raise Truncated
        try:
            self._buffer = self._aead.decrypt(_nonce(self._counter, bool(last)), sealed, MAGIC)
            self._at = 0
        except InvalidTag:
            raise WrongKey from None
        self._counter += 1
        self._done = bool(last)

"""Salted author hashes: posts by the same author stay linkable, the author stays unnamed.

The salt comes from configuration (`author_salt`) or from a `.mheval-salt` file beside the
output, created on first need. Keep that file private and out of version control: anyone who
has it can test guessed usernames against the hashes.
"""

from __future__ import annotations

import os
import secrets
from hashlib import blake2b
from pathlib import Path

from evaluator.errors import ConfigError
from evaluator.io import atomic_write

__all__ = ["SALT_FILENAME", "AuthorHasher"]

SALT_FILENAME = ".mheval-salt"

#: Author values that name nobody.
_NO_AUTHOR = frozenset({"", "[deleted]", "[removed]", "deleted", "none", "null", "nan"})


def _as_key(salt: str) -> bytes:
    """BLAKE2b keys are at most 64 bytes: a longer salt is hashed down to 64."""
    key = salt.encode("utf-8")
    return key if len(key) <= 64 else blake2b(key).digest()


class AuthorHasher:
    """Hash author ids with one salt, loaded or generated lazily (only if an author shows up)."""

    def __init__(self, salt_file: Path, configured_salt: str | None = None) -> None:
        self.salt_file = salt_file
        self._key: bytes | None = _as_key(configured_salt) if configured_salt else None
        self.source = "config" if configured_salt else "unused"

    def _load_key(self) -> bytes:
        if self.salt_file.is_file():
            salt = self.salt_file.read_text(encoding="utf-8").strip()
            if not salt:
                raise ConfigError(
                    "salt file is empty; delete it to generate a new one", file=self.salt_file
                )
            self.source = "file"
        else:
            salt = secrets.token_hex(32)
            with atomic_write(self.salt_file) as handle:
                handle.write(salt + "\n")
            os.chmod(self.salt_file, 0o600)
            self.source = "generated"
        return _as_key(salt)

    def __call__(self, platform: str, author: object) -> str | None:
        """`platform:author` hashed with the salt; None when there is no real author."""
        if author is None:
            return None
        name = str(author).strip()
        if name.lower() in _NO_AUTHOR:
            return None
        if self._key is None:
            self._key = self._load_key()
        # Keyed BLAKE2b is a MAC in its own right, and several times faster than HMAC-SHA256.
        digest = blake2b(f"{platform}:{name}".encode(), key=self._key, digest_size=12)
        return digest.hexdigest()

"""Encryption at rest through langgraph's own `EncryptedSerializer` (AES from pycryptodome,
in the mode langgraph picks, EAX: authenticated, so a wrong key or altered data fails rather
than decrypting to garbage). The current key encrypts; a previous key still decrypts, so a
key can be rotated without rewriting the database first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.checkpoint.serde.base import CipherProtocol, SerializerProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from graphport.server.errors import GraphportError
from graphport.server.graphs.config import ConfigError

KEY_VARIABLE = "GRAPHPORT_AES_KEY"
PREVIOUS_KEY_VARIABLE = "GRAPHPORT_AES_KEY_PREVIOUS"
# The key of the one-entry JSON object that stands for a sealed value, in store items and in
# Graphport's own columns: `{SEALED: [cipher name or serializer type, base64 ciphertext]}`.
SEALED = "__graphport_aes__"
_KEY_SIZES = (16, 24, 32)


class DecryptionFailed(GraphportError):
    """Stored data that no configured key opens."""


def aes_keys(current: str | None, previous: str | None) -> list[bytes]:
    """The keys, current first; empty when encryption is off. Checked at start-up."""
    if not current:
        if previous:
            raise ConfigError(
                f"{PREVIOUS_KEY_VARIABLE} is set but {KEY_VARIABLE} is not: the previous key only"
                " decrypts, so a current key is needed"
            )
        return []
    keys = [_key(f"{KEY_VARIABLE} (or LANGGRAPH_AES_KEY)", current)]
    if previous:
        keys.append(_key(PREVIOUS_KEY_VARIABLE, previous))
    return keys


def _key(variable: str, value: str) -> bytes:
    key = value.encode()
    if len(key) not in _KEY_SIZES:
        raise ConfigError(
            f"{variable} must be 16, 24 or 32 bytes long (AES-128, -192 or -256), as UTF-8;"
            f" it is {len(key)} bytes"
        )
    return key


class RotatingCipher(CipherProtocol):
    """langgraph's pycryptodome AES cipher once per key: encrypts with the first, decrypts
    with the first that authenticates the data."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        try:
            self._ciphers = [EncryptedSerializer.from_pycryptodome_aes(key=k).cipher for k in keys]
        except ImportError as exc:
            raise ConfigError(f"{KEY_VARIABLE} needs the pycryptodome package: {exc}") from None

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        return self._ciphers[0].encrypt(plaintext)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(ciphername, ciphertext)
            except ValueError:  # the authentication tag does not match: not this key
                continue
        raise DecryptionFailed(
            f"Stored data could not be decrypted with {KEY_VARIABLE}"
            + (f" nor {PREVIOUS_KEY_VARIABLE}" if len(self._ciphers) > 1 else "")
            + ": the server runs with another key than the one that encrypted it,"
            " or the data was altered"
        )


class _Serializer(JsonPlusSerializer):
    """langgraph's serializer, saying clearly when it meets encrypted data without a key
    (instead of "Unknown serialization type")."""

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        if "+" in data[0]:
            raise DecryptionFailed(
                f"Stored data is encrypted but {KEY_VARIABLE} is not set: start the server with"
                " the key that encrypted it"
            )
        return super().loads_typed(data)


def checkpoint_serde(
    options: dict[str, Any], *, key: str | None, previous_key: str | None
) -> SerializerProtocol:
    """The checkpointer's serializer: langgraph's JsonPlusSerializer with the
    `checkpointer.serde` options, wrapped in the encrypted serializer when a key is set."""
    serde = _Serializer(**options)
    keys = aes_keys(key, previous_key)
    return EncryptedSerializer(RotatingCipher(keys), serde) if keys else serde

"""Data keys as plain values: the key, its id and IV, where players fetch it, and which segments it covers.

A *data key* is 16 random bytes that encrypt whole segments; the plain bytes live in memory only.
A *key URI* names the content and the key id, never the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KEY_BYTES = 16


@dataclass(frozen=True)
class DataKey:
    content_id: str
    key_id: str
    iv: bytes
    key: bytes = field(repr=False)  # plain key: memory only
    kms_blob: str | None = field(default=None, repr=False)  # KMS CiphertextBlob (KeyType KMS)

    @property
    def iv_hex(self) -> str:
        return "0x" + self.iv.hex()

    def uri(self, key_url: str) -> str:
        return key_uri(key_url, self.content_id, self.key_id)


def key_uri(key_url: str, content_id: str, key_id: str) -> str:
    """Where players fetch a key: names the content and the key id, never the key."""
    return f"{key_url.rstrip('/')}/{content_id}/{key_id}"


@dataclass(frozen=True)
class KeyRecord:
    """What the key store says about a key, without the key."""

    content_id: str
    key_id: str
    iv_hex: str
    wrapping: str  # "aes-256-gcm" (local master key) or "kms"
    created_at: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


# --- key schedule -------------------------------------------------------------------------


@dataclass(frozen=True)
class KeySchedule:
    """Which key encrypts which segment.

    ``clear_lead`` first segments stay in clear; after that key 0 applies, and with
    ``rotate_every`` = N a new key starts every N encrypted segments.
    """

    rotate_every: int | None = None
    clear_lead: int = 0
    encrypt: bool = True

    def key_index(self, segment_index: int) -> int | None:
        if not self.encrypt or segment_index < self.clear_lead:
            return None
        if not self.rotate_every:
            return 0
        return (segment_index - self.clear_lead) // self.rotate_every

    def keys_needed(self, segment_count: int) -> int:
        indexes = {self.key_index(i) for i in range(segment_count)} - {None}
        return len(indexes)

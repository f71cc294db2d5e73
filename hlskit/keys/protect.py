"""Which data key encrypts which part of a definition, and the encryption itself: bytes in, bytes out.

Segments are encrypted whole with AES-128-CBC, PKCS#7 padding and the key's explicit IV (RFC 8216
§4.3.2.4); ``KeySchedule`` says which key applies to segment i (clear lead, rotation). An fMP4
definition's initialization section (EXT-X-MAP) stays clear, its MAP written before the first
EXT-X-KEY (RFC 8216 §4.3.2.5 permits either): it holds only the codec configuration, no sample,
and VLC 3.0 never decrypts an init section (its HLS parser attaches keys to media segments only),
so an encrypted one fails there ("Failed to create demuxer"); see docs/clients.md.

Encrypting finished files ourselves keeps key rotation and clear lead deterministic and means
FFmpeg never sees a plain key file. Where the bytes are read and written is the engine's business.
"""

from __future__ import annotations

from collections.abc import Callable

from ..domain.keys import DataKey, KeySchedule
from ..hls.crypto import encrypt_segment
from ..hls.write import CLEAR, KeyTag

KeyMaker = Callable[[int], DataKey]  # schedule index → data key (created on first use)


def segment_key(schedule: KeySchedule, index: int, key_for: KeyMaker) -> DataKey | None:
    """The data key of segment ``index`` (0-based), or None when it stays clear."""
    key_index = schedule.key_index(index)
    return None if key_index is None else key_for(key_index)


def encrypt(data: bytes, key: DataKey | None) -> bytes:
    """``data`` encrypted with ``key`` and its IV, or unchanged when ``key`` is None."""
    return data if key is None else encrypt_segment(data, key.key, key.iv)


def key_tag(key: DataKey | None, key_url: str) -> KeyTag:
    """The EXT-X-KEY that names ``key`` (its key URI and IV), or METHOD=NONE for clear media."""
    return CLEAR if key is None else KeyTag("AES-128", key.uri(key_url), key.iv)

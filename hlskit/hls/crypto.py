"""HLS AES-128 segment encryption (RFC 8216 §4.3.2.4): AES-128-CBC over the whole segment, PKCS#7."""

from __future__ import annotations

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def encrypt_segment(plain: bytes, key: bytes, iv: bytes) -> bytes:
    """AES-128-CBC over the whole segment with PKCS#7 padding (RFC 8216 §4.3.2.4)."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt_segment(cipher: bytes, key: bytes, iv: bytes) -> bytes:
    """Inverse of :func:`encrypt_segment`; raises ValueError when the padding is not valid PKCS#7."""
    if len(cipher) % 16:
        raise ValueError("ciphertext length is not a multiple of 16 bytes")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    data = dec.update(cipher) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(data) + unpadder.finalize()

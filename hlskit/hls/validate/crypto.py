"""Decryption checks: key sources and key length, ciphertext length, PKCS#7 padding, and TS sync
(or ISO BMFF boxes, fMP4) after decryption (AES-128-CBC with PKCS7 padding, RFC 8216 §4.3.2.4;
IVs as in §5.2)."""

from __future__ import annotations

from ..playlist import MediaPlaylist, Segment
from ..source import BLOCK, padding_of
from .read import Context
from .report import VariantReport


def check_keys(ctx: Context, pl: MediaPlaylist, rep: VariantReport, ref: str) -> None:
    """Describe the encryption, fetch every key once, and check each is 16 raw bytes (KF1)."""
    keys = pl.keys
    if not keys:
        return
    methods = sorted({k.method for k in keys})
    rep.encryption = f"{'/'.join(methods)}, {len(keys)} key{'s' if len(keys) > 1 else ''}"
    if any(k.iv is None for k in keys):
        ctx.add("IV3", "EXT-X-KEY without IV: the IV is the media sequence number; prefer an explicit random IV", ref)
    for k in keys:
        if k.method != "AES-128":
            ctx.note(f"{ref}: METHOD={k.method} segments are not decrypted by this validator")
            continue
        if k.uri is None:
            continue  # K3, from the parser
        key = ctx.keys.get(k.uri)
        if key is None:
            # the resolver's sentence names the URI already ("key URI … answered HTTP 403")
            ctx.note(f"{ctx.keys.errors.get(k.uri, f'key {k.uri}: no key source')}; decryption was not checked")
        elif len(key) != BLOCK:
            looks = (
                " (it looks like hex text)"
                if len(key) == 32 and all(c in b"0123456789abcdefABCDEF" for c in key)
                else ""
            )
            ctx.add("KF1", f"key URI {k.uri} answered {len(key)} bytes{looks}; a key is exactly 16 raw bytes", ref)


def segment_key(ctx: Context, seg: Segment) -> bytes | None:
    """The AES-128 key that decrypts ``seg``, when it is encrypted and the key is usable."""
    cipher = seg.cipher
    return ctx.keys.usable(cipher.uri) if cipher is not None and cipher.method == "AES-128" else None


def ciphertext_fault(ctx: Context, seg: Segment, key: bytes, size: int) -> str | None:
    """ "length" when the ciphertext is not whole blocks (C3), "padding" when the last block does not
    decrypt to PKCS#7 padding (C4), else None. Reads the last two blocks only."""
    if size % BLOCK:
        return "length"
    if padding_of(ctx.source, seg, key, size) is None:
        return "padding"
    return None


def report_decryption(
    ctx: Context,
    *,
    bad_length: list[str],
    bad_padding: list[str],
    not_ts: list[str],
    encrypted: bool,
    ref: str,
    container: str = "MPEG-2 TS (no 0x47 sync bytes)",
) -> None:
    """The findings for segments that failed to decrypt, or were not ``container`` once decrypted."""
    ctx.add_many("C3", "encrypted segments whose length is not a multiple of 16", bad_length, ref)
    ctx.add_many(
        "C4",
        "segments that do not decrypt to valid PKCS#7 padding with their key and IV (wrong key or IV)",
        bad_padding,
        ref,
    )
    if encrypted:
        ctx.add_many("C4", f"segments that are not {container} after decryption: wrong key or IV", not_ts, ref)
    else:
        ctx.add_many("F3", f"segments that are not {container}", not_ts, ref)

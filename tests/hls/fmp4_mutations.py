"""Mutations of a real fMP4 package (FFmpeg's init.mp4 and its first media segment), each labelled
with what `hlskit validate` must say about it: ``playable`` (equivalent to the original under ISO/IEC
14496-12: exit 0) or not (a MUST finding: exit 1). Never exit 2, never a traceback.

Families: truncations; size fields (0, 1, 7, +1, -1, 0xFFFFFFFF) of every box; renames of the boxes
a player needs (to ``zzzz``) and of those it ignores (to ``free``); count fields (trun sample_count,
stsd entry_count, elst entry_count, avcC parameter set counts and lengths); track IDs; mdhd
timescales; trun data offsets and sample sizes; tfdt; box order; and equivalent rewrites (a 64-bit
largesize, a free box appended). Size 0 ("to the end of the file") is never equivalent: players
append the init section and the segments into one stream, where it runs into the next segment
(Debian's FFmpeg decodes 30 of 90 frames with the first segment's mdat at size 0). Used by
tests/reliability/test_fmp4_mutations.py and bench/reliability_validate.py.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Boxes whose children are boxes (the sample entries below stsd have fields first).
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"edts", b"dinf", b"moof", b"traf"}
ENTRY_FIELDS = {b"avc1": 78, b"hvc1": 78, b"hev1": 78, b"av01": 78, b"mp4a": 28}
# Renamed to zzzz, each of these leaves a player without something it needs.
NEEDED = {
    *(b"moov", b"trak", b"tkhd", b"mdia", b"mdhd", b"hdlr", b"minf", b"stbl", b"stsd", b"mvex", b"trex"),
    *(b"avc1", b"hvc1", b"av01", b"mp4a", b"avcC", b"hvcC", b"av1C", b"esds"),
    *(b"moof", b"traf", b"tfhd", b"tfdt", b"trun", b"mdat"),
}
IGNORED = {b"udta", b"btrt", b"sidx", b"styp"}  # renamed to free: nothing a player reads


@dataclass(frozen=True)
class Mutation:
    name: str  # what was changed, e.g. "seg: moof#0/traf#1/trun#0 size -1"
    target: str  # "init" or "seg"
    data: bytes  # the mutated file
    playable: bool  # equivalent to the original: validate must pass it
    kind: str  # the family, for counting: "size", "rename", "truncation", "count", ...


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int
    body: int
    end: int

    @property
    def name(self) -> str:
        return self.type.decode("latin-1")


def boxes(data: bytes, start: int, end: int) -> list[Box]:
    """The boxes of a clean file (32-bit sizes), read here without the reader under test."""
    out, i = [], start
    while i + 8 <= end:
        size = int.from_bytes(data[i : i + 4], "big")
        assert 8 <= size <= end - i, f"not a clean file: size {size} at byte {i}"
        out.append(Box(data[i + 4 : i + 8], i, i + 8, i + size))
        i += size
    return out


@dataclass(frozen=True)
class Node:
    path: str  # e.g. "moov#0/trak#0/mdia#0/mdhd#0"
    box: Box
    parents: tuple[Box, ...]  # outermost first
    last: bool  # the last box of its container (or of the file)


def walk(data: bytes) -> list[Node]:
    """Every box of the tree, depth first (containers and sample entries opened)."""
    out: list[Node] = []

    def visit(start: int, end: int | None, prefix: str, parents: tuple) -> None:
        found = boxes(data, start, len(data) if end is None else end)
        seen: dict[bytes, int] = {}
        for i, box in enumerate(found):
            n = seen[box.type] = seen.get(box.type, -1) + 1
            path = f"{prefix}{box.name}#{n}"
            out.append(Node(path, box, parents, i == len(found) - 1))
            if box.type in CONTAINERS:
                visit(box.body, box.end, path + "/", (*parents, box))
            elif box.type == b"stsd":
                visit(box.body + 8, box.end, path + "/", (*parents, box))
            elif box.type in ENTRY_FIELDS:
                visit(box.body + ENTRY_FIELDS[box.type], box.end, path + "/", (*parents, box))

    visit(0, None, "", ())
    return out


def _put(data: bytes, at: int, value: int, width: int = 4) -> bytes:
    return data[:at] + value.to_bytes(width, "big") + data[at + width :]


def _grow(data: bytes, parents: tuple[Box, ...], by: int) -> bytes:
    """Add ``by`` to the 32-bit size of each parent (their bodies grew)."""
    for p in parents:
        data = _put(data, p.start, int.from_bytes(data[p.start : p.start + 4], "big") + by)
    return data


def _find(nodes: list[Node], suffix: str) -> Node:
    return next(n for n in nodes if n.path.endswith(suffix))


def _sizes(tag: str, data: bytes, nodes: list[Node]) -> list[Mutation]:
    out = []
    for n in nodes:
        b, size = n.box, n.box.end - n.box.start
        values = {"0": 0, "1": 1, "7": 7, "+1": size + 1, "0xFFFFFFFF": 0xFFFFFFFF}
        if not n.last:  # the last child's size -1 only leaves a stray byte, which may be a terminator
            values["-1"] = size - 1
        for label, value in values.items():
            if value != size:
                out.append(
                    Mutation(f"{tag}: {n.path} size {label}", tag, _put(data, b.start, value), False, "size field")
                )
    return out


def _renames(tag: str, data: bytes, nodes: list[Node]) -> list[Mutation]:
    out = []
    for n in nodes:
        if n.box.type in NEEDED:
            out.append(
                Mutation(
                    f"{tag}: {n.path} renamed zzzz", tag, _replace(data, n.box.start + 4, b"zzzz"), False, "rename"
                )
            )
        elif n.box.type in IGNORED:
            out.append(
                Mutation(f"{tag}: {n.path} renamed free", tag, _replace(data, n.box.start + 4, b"free"), True, "rename")
            )
    return out


def _replace(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new) :]


def _truncations(tag: str, data: bytes, nodes: list[Node]) -> list[Mutation]:
    cuts = {f"{p}%": len(data) * p // 100 for p in (1, 10, 25, 50, 75, 90, 99)}
    for n in nodes:
        if not n.parents:
            cuts[f"inside {n.path} header"] = n.box.start + 5
            if n.box.end < len(data):
                cuts[f"after {n.path}"] = n.box.end
    cuts["last byte"] = len(data) - 1
    return [Mutation(f"{tag}: cut {label}", tag, data[:at], False, "truncation") for label, at in cuts.items()]


def _largesize(tag: str, data: bytes, node: Node, shift_offsets: list[Node] = ()) -> Mutation:
    """``node`` rewritten with a 64-bit largesize (ISO/IEC 14496-12 §4.2): equivalent, its parents
    and (for an mdat) the trun data offsets that point past its header moved by 8."""
    b = node.box
    size = b.end - b.start
    out = data[: b.start] + struct.pack(">I4sQ", 1, b.type, size + 8) + data[b.body :]
    out = _grow(out, node.parents, 8)
    for trun in shift_offsets:
        at = trun.box.body + 8  # after version, flags and sample_count: the data offset
        out = _put(out, at, int.from_bytes(out[at : at + 4], "big") + 8)
    return Mutation(f"{tag}: {node.path} as a 64-bit largesize", tag, out, True, "equivalent rewrite")


def _free_box(tag: str, data: bytes, node: Node | None, where: str, playable: bool) -> Mutation:
    """An 8-byte free box at the end of ``node``'s body (None: the end of the file), or before it."""
    free = struct.pack(">I4s", 8, b"free")
    if node is None:
        return Mutation(f"{tag}: a free box appended", tag, data + free, playable, "equivalent rewrite")
    at = node.box.end if where == "end" else node.box.start
    out = data[:at] + free + data[at:]
    parents = (*node.parents, node.box) if where == "end" else node.parents
    kind = "equivalent rewrite" if playable else "box order"
    return Mutation(f"{tag}: a free box at the {where} of {node.path}", tag, _grow(out, parents, 8), playable, kind)


def init_mutations(init: bytes) -> list[Mutation]:
    nodes = walk(init)
    out = _sizes("init", init, nodes) + _renames("init", init, nodes) + _truncations("init", init, nodes)
    tracks = [n for n in nodes if n.box.type == b"trak"]
    for i, trak in enumerate(tracks):
        sub = [n for n in nodes if n.path.startswith(trak.path + "/")]
        mdhd = next(n for n in sub if n.box.type == b"mdhd").box
        at = mdhd.body + (20 if init[mdhd.body] == 1 else 12)
        out.append(Mutation(f"init: trak#{i} mdhd timescale 0", "init", _put(init, at, 0), False, "timescale"))
        hdlr = next(n for n in sub if n.box.type == b"hdlr").box
        if init[hdlr.body + 8 : hdlr.body + 12] == b"vide":  # EXTINF no longer matches the samples (E3)
            double = 2 * int.from_bytes(init[at : at + 4], "big")
            out.append(
                Mutation(f"init: trak#{i} mdhd timescale x2", "init", _put(init, at, double), False, "timescale")
            )
        stsd = next(n for n in sub if n.box.type == b"stsd").box
        for count in (0, 2, 33, 0xFFFFFFFF):
            out.append(
                Mutation(
                    f"init: trak#{i} stsd entry_count {count}",
                    "init",
                    _put(init, stsd.body + 4, count),
                    False,
                    "count field",
                )
            )
        elst = next((n for n in sub if n.box.type == b"elst"), None)
        if elst is not None:
            count = int.from_bytes(init[elst.box.body + 4 : elst.box.body + 8], "big")
            for label, value in (("+1", count + 1), ("0xFFFFFFFF", 0xFFFFFFFF)):
                out.append(
                    Mutation(
                        f"init: trak#{i} elst entry_count {label}",
                        "init",
                        _put(init, elst.box.body + 4, value),
                        False,
                        "count field",
                    )
                )
    for n in nodes:
        if n.box.type == b"trex":
            out.append(
                Mutation(f"init: {n.path} track_ID 99", "init", _put(init, n.box.body + 4, 99), False, "track ID")
            )
        if n.box.type == b"avcC":
            out += _avcc(init, n)
    moov = _find(nodes, "moov#0")
    stbl = next(n for n in nodes if n.box.type == b"stbl")
    out += [
        _largesize("init", init, moov),
        _largesize("init", init, next(n for n in nodes if n.box.type == b"trak")),
        _largesize("init", init, stbl),
        _free_box("init", init, moov, "end", True),
        _free_box("init", init, stbl, "end", True),
        _free_box("init", init, None, "", True),
    ]
    return out


def _avcc(init: bytes, node: Node) -> list[Mutation]:
    """avcC: parameter set counts and lengths (14496-15 §5.3.3.1)."""
    body = node.box.body
    sps_len = int.from_bytes(init[body + 6 : body + 8], "big")
    pps_count_at = body + 8 + sps_len
    cases = {
        "configurationVersion 0": _put(init, body, 0, 1),
        "numOfSequenceParameterSets 0": _put(init, body + 5, 0xE0, 1),
        "numOfSequenceParameterSets 2": _put(init, body + 5, 0xE2, 1),
        "SPS length +1": _put(init, body + 6, sps_len + 1, 2),
        "SPS length -1": _put(init, body + 6, sps_len - 1, 2),
        "SPS length 0xFFFF": _put(init, body + 6, 0xFFFF, 2),
        "numOfPictureParameterSets 0": _put(init, pps_count_at, 0, 1),
        "numOfPictureParameterSets 9": _put(init, pps_count_at, 9, 1),
        "SPS NAL type 1": _put(init, body + 8, 0x61, 1),
        "lengthSizeMinusOne 2": _put(init, body + 4, 0xFE, 1),
    }
    return [
        Mutation(f"init: avcC {label}", "init", data, False, "codec configuration") for label, data in cases.items()
    ]


def segment_mutations(seg: bytes) -> list[Mutation]:
    nodes = walk(seg)
    out = _sizes("seg", seg, nodes) + _renames("seg", seg, nodes) + _truncations("seg", seg, nodes)
    truns = [n for n in nodes if n.box.type == b"trun"]
    mdat = _find(nodes, "mdat#0")
    for i, trun in enumerate(truns):
        body = trun.box.body
        count = int.from_bytes(seg[body + 4 : body + 8], "big")
        for label, value in (
            ("+1", count + 1),
            ("-1", count - 1),
            ("x2", 2 * count),
            ("0", 0),
            ("1048575", 1048575),
            ("0xFFFFFFFF", 0xFFFFFFFF),
        ):
            out.append(
                Mutation(f"seg: trun#{i} sample_count {label}", "seg", _put(seg, body + 4, value), False, "count field")
            )
        assert seg[body + 3] & 0x1, "FFmpeg writes a data offset in each trun"
        offset = int.from_bytes(seg[body + 8 : body + 12], "big", signed=True)
        for label, value in (
            ("+1", offset + 1),
            ("-1", offset - 1),
            ("0", 0),
            ("-8", -8),
            ("+mdat", offset + mdat.box.end),
        ):
            data = seg[: body + 8] + value.to_bytes(4, "big", signed=True) + seg[body + 12 :]
            out.append(Mutation(f"seg: trun#{i} data_offset {label}", "seg", data, False, "data offset"))
        flags = int.from_bytes(seg[body + 1 : body + 4], "big")
        if flags & 0x200:  # the first sample's size, in the table after the optional fields
            at = body + 12 + (4 if flags & 0x4 else 0) + (4 if flags & 0x100 else 0)
            size = int.from_bytes(seg[at : at + 4], "big")
            for label, value in (("+1", size + 1), ("+mdat", size + mdat.box.end), ("0xFFFFFFFF", 0xFFFFFFFF)):
                out.append(
                    Mutation(
                        f"seg: trun#{i} first sample size {label}", "seg", _put(seg, at, value), False, "sample size"
                    )
                )
    for i, tfhd in enumerate(n for n in nodes if n.box.type == b"tfhd"):
        out.append(Mutation(f"seg: tfhd#{i} track_ID 99", "seg", _put(seg, tfhd.box.body + 4, 99), False, "track ID"))
    moof = _find(nodes, "moof#0")
    out += [
        Mutation("seg: mdat before moof", "seg", _swap(seg, moof.box, mdat.box), False, "box order"),
        Mutation(
            "seg: moof twice",
            "seg",
            seg[: moof.box.end] + seg[moof.box.start : moof.box.end] + seg[moof.box.end :],
            False,
            "box order",
        ),
        _largesize("seg", seg, mdat, truns),
        _largesize("seg", seg, _find(nodes, "styp#0")),
        _free_box("seg", seg, None, "", True),
        _free_box("seg", seg, mdat, "before", False),  # between moof and mdat: the data offsets miss
    ]
    return out


def _swap(data: bytes, a: Box, b: Box) -> bytes:
    """Boxes ``a`` and ``b`` (adjacent, a first) in the other order."""
    return data[: a.start] + data[b.start : b.end] + data[a.start : a.end] + data[b.end :]


def corpus(folder: Path) -> list[Mutation]:
    """Every mutation of ``folder``'s init.mp4 and its first media segment (index-00001.m4s)."""
    return init_mutations((folder / "init.mp4").read_bytes()) + segment_mutations(
        (folder / "index-00001.m4s").read_bytes()
    )


def write_cases(folder: Path, mutations: list[Mutation]) -> list[tuple[str, Mutation]]:
    """A media playlist per mutation beside FFmpeg's files in ``folder`` (the clean ones shared):
    (playlist name, mutation). Segment 1 or the init section is the mutated copy."""
    listed = (folder / "ffmpeg.m3u8").read_text()
    cases = []
    for i, m in enumerate(mutations):
        name = f"m{i:03d}"
        if m.target == "init":
            (folder / f"{name}-init.mp4").write_bytes(m.data)
            text = listed.replace('URI="init.mp4"', f'URI="{name}-init.mp4"')
        else:
            (folder / f"{name}-seg.m4s").write_bytes(m.data)
            text = listed.replace("index-00001.m4s", f"{name}-seg.m4s")
        (folder / f"{name}.m3u8").write_text(text)
        cases.append((f"{name}.m3u8", m))
    return cases


def million_sample_segment() -> bytes:
    """Issue 25's 116-byte media segment: one traf for track 1 whose trun declares 1,048,575
    samples (all taking the trex defaults), its data offset at the mdat's 24 bytes."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(body), kind) + body

    traf = box(
        b"traf",
        box(b"tfhd", struct.pack(">II", 0x020000, 1))  # default-base-is-moof, track 1
        + box(b"tfdt", struct.pack(">II", 0, 0))
        + box(b"trun", struct.pack(">IIi", 0x1, 1_048_575, 92)),  # data offset: the mdat's body
    )
    moof = box(b"moof", box(b"mfhd", struct.pack(">II", 0, 1)) + traf)
    return moof + box(b"mdat", bytes(116 - len(moof) - 8))


def repeated_playlist(segment: str, times: int, init: str = "init.mp4") -> str:
    """A VOD fMP4 media playlist listing ``segment`` ``times`` times."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:1", "#EXT-X-PLAYLIST-TYPE:VOD"]
    lines += [f'#EXT-X-MAP:URI="{init}"'] + [f"#EXTINF:1.0,\n{segment}"] * times + ["#EXT-X-ENDLIST", ""]
    return "\n".join(lines)


# Validates each location as `hlskit validate --json` does, in a child under RLIMIT_AS; one JSON
# line per case (location, kind, exit code, MUST rules, seconds, detail), then the peak RSS (KiB).
_CHILD = """
import json, resource, sys
limit, budget = int(sys.argv[1]), float(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.path.insert(0, sys.argv[3])
from tests.hls.corpus import run_one
for location in sys.stdin.read().split():
    out = run_one(location, fetch_timeout=5.0, time_budget=budget)
    report = out.data if out.kind == "report" else {"findings": []}
    musts = sorted({f["rule"] for f in report["findings"] if f["severity"] == "MUST"})
    print(json.dumps([location, out.kind, out.exit_code, musts, out.seconds, out.detail]), flush=True)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def validate_in_child(locations: list[str], *, budget: float, as_limit: int) -> tuple[dict[str, list], float]:
    """{location: [kind, exit code, MUST rules, seconds, detail]} and the child's peak RSS in MiB."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(as_limit), str(budget), str(REPO)],
        input="\n".join(locations),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the validating child failed: {proc.stderr[-2000:]}")
    *lines, rss_kib = proc.stdout.strip().split("\n")
    return {row[0]: row[1:] for row in map(json.loads, lines)}, int(rss_kib) / 1024

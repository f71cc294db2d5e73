"""The rule catalogue is the one place for rule ids, severities and spec texts: every rule id the
hls code uses is catalogued, every catalogue entry is used, and each says what it enforces."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import hlskit.hls
from hlskit.hls.playlist import parse
from hlskit.hls.validate import Finding, rules
from hlskit.hls.validate.report import finding
from hlskit.hls.validate.rules import MUST, RULES, SHOULD

HLS = Path(hlskit.hls.__file__).parent
RULE_ID = re.compile(r"^(AHS-\d+\.\d+|\d+\.\d+(-[A-Z-]+)?|[A-Z]{1,3}\d+)$")
REPORTERS = {"ctx.add", "ctx.add_many", "finding", "Problem"}  # every call that names a rule


def _code() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(), str(p)) for p in sorted(HLS.rglob("*.py")) if not p.name.startswith("rules")}


def _name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        return f"{f.value.id}.{f.attr}"
    return f.id if isinstance(f, ast.Name) else None


def _forwarded(arg: ast.expr) -> bool:
    """Plumbing that passes an id on: ``p.rule`` of a parser Problem (named, and scanned, where the
    Problem was made) and the ``rule`` parameter of the reporting helpers themselves."""
    return (isinstance(arg, ast.Attribute) and arg.attr == "rule") or (
        isinstance(arg, ast.Name) and arg.id in ("rule", "rule_id")
    )


def test_every_rule_id_in_the_code_is_catalogued():
    used: dict[str, str] = {}
    calls = 0
    for path, tree in _code().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) in REPORTERS and node.args:
                first = node.args[0]
                if _forwarded(first):
                    continue
                # A literal id at every report site: nothing computes ids the scan cannot see.
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path.name}:{node.lineno}: {_name(node)}() takes a literal rule id"
                )
                used[first.value] = f"{path.name}:{node.lineno}"
                calls += 1
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and RULE_ID.match(node.value):
                used.setdefault(node.value, f"{path.name}:{node.lineno}")
    assert calls >= 70  # the scan sees the parser and every check module
    unknown = {rule: at for rule, at in used.items() if rule not in RULES}
    assert unknown == {}, f"rule ids missing from the catalogue: {unknown}"
    unused = set(RULES) - set(used)
    assert unused == set(), f"catalogue entries no code reports: {sorted(unused)}"


def test_each_catalogue_entry_has_a_severity_and_its_spec_text():
    assert len(RULES) == len(rules._RULES)  # ids are unique
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id and RULE_ID.match(rule_id), rule_id
        assert rule.severity in (MUST, SHOULD), rule_id
        assert re.match(r"^(RFC 8216 §\d|Apple HLS authoring spec \d)", rule.spec), (rule_id, rule.spec)
        assert len(rule.spec) > 40 and rule.spec.endswith("."), rule_id
        if rule_id.startswith("AHS-"):
            assert rule.spec.startswith(f"Apple HLS authoring spec {rule_id[4:]}"), rule_id


def test_findings_take_severity_and_text_from_the_catalogue():
    f = finding("K5", "IV has 8 hex digits", "x.m3u8")
    assert f == Finding(SHOULD, "K5", "IV has 8 hex digits", "x.m3u8") and f.spec == RULES["K5"].spec
    assert finding("T2", "m", "w").severity == MUST
    # The parser names rules only; the validator gives them the catalogue's severity.
    pl = parse(
        '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128,URI="k",IV=0x1\n'
        "#EXTINF:2.0,\na.ts\n#EXT-X-ENDLIST\n",
        "p.m3u8",
    )
    assert [(p.rule, RULES[p.rule].severity) for p in pl.problems] == [("K5", SHOULD)]

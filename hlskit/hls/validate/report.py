"""The findings model, defined once: Finding, VariantReport, Report, and the human report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from ..redact import mask, mask_all
from .rules import MUST, RULES, SHOULD


@dataclass
class Finding:
    severity: str  # MUST | SHOULD, from the rule catalogue
    rule: str  # id in hlskit.hls.validate.rules.RULES
    message: str
    where: str

    @property
    def spec(self) -> str:
        """The spec text the rule enforces, with its source."""
        return RULES[self.rule].spec


def finding(rule_id: str, message: str, where: str) -> Finding:
    """A finding for a catalogued rule (KeyError for an id missing from the catalogue)."""
    return Finding(RULES[rule_id].severity, rule_id, message, where)


@dataclass
class VariantReport:
    uri: str
    name: str
    segments: int = 0
    duration: float = 0.0
    target_duration: int | None = None
    max_segment: float = 0.0
    declared_bandwidth: int | None = None
    measured_peak: int | None = None
    measured_peak_wide: int | None = None
    declared_average: int | None = None
    measured_average: int | None = None
    declared_codecs: str | None = None
    declared_video_range: str | None = None
    codecs: str | None = None
    declared_resolution: str | None = None
    resolution: str | None = None
    declared_frame_rate: float | None = None
    frame_rate: float | None = None
    encryption: str = "none"
    idr_starts: int = 0
    checked_segments: int = 0
    iframe_uri: str | None = None


@dataclass
class Report:
    source: str
    kind: str  # "master" or "media"
    variants: list[VariantReport] = field(default_factory=list)
    iframes: list[VariantReport] = field(default_factory=list)
    renditions: list[VariantReport] = field(default_factory=list)  # EXT-X-MEDIA playlists read
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def must(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == MUST]

    @property
    def should(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == SHOULD]

    def rules(self, severity: str | None = None) -> set[str]:
        return {f.rule for f in self.findings if severity in (None, f.severity)}

    def to_dict(self) -> dict:
        """The report as plain data, tokens masked (hlskit.hls.redact)."""
        return mask_all({**asdict(self), "must_fix": len(self.must), "should_fix": len(self.should)})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)


def format_report(report: Report) -> str:
    """The human-readable report: per variant figures, then MUST-fix and SHOULD-fix findings.
    Tokens in URLs are masked (hlskit.hls.redact)."""
    out = [f"{report.source} ({report.kind} playlist)"]

    def rate(d: int | None, m: int | None) -> str:
        if m is None:
            return "-"
        return f"{m / 1000:.1f} kb/s" + (f" (declared {d / 1000:.1f})" if d is not None else "")

    for r in report.variants:
        out += [
            f"  {r.name}",
            f"    peak {rate(r.declared_bandwidth, r.measured_peak)}  average {rate(r.declared_average, r.measured_average)}"
            f"  draft-window peak {r.measured_peak_wide / 1000 if r.measured_peak_wide else 0:.1f} kb/s",
            f"    codecs {r.codecs or '?'}{'' if r.declared_codecs in (None, r.codecs) else f' (declared {r.declared_codecs})'}"
            f"  resolution {r.resolution or '?'}  frame rate {f'{r.frame_rate:.3f}' if r.frame_rate else '?'}",
            f"    {r.segments} segments, {r.duration:.3f} s, target {r.target_duration}, longest {r.max_segment:.3f} s;"
            f" IDR at start {r.idr_starts}/{r.checked_segments} checked; encryption {r.encryption}",
        ]
    for r in report.iframes:
        out.append(
            f"  I-frames {r.name}: {r.segments} frames, peak {rate(r.declared_bandwidth, r.measured_peak)}, "
            f"IDR {r.idr_starts}/{r.checked_segments} ranges checked"
        )
    for r in report.renditions:
        out.append(
            f"  rendition {r.name}: {r.segments} segments, {r.duration:.3f} s, codecs {r.codecs or '-'}, "
            f"peak {rate(None, r.measured_peak)}"
        )
    for label, items in (("MUST fix", report.must), ("SHOULD fix", report.should)):
        out.append(f"{label}: {len(items)}")
        out += [f"  [{f.rule}] {f.message} ({f.where})" for f in items]
    out += [f"note: {n}" for n in report.notes]
    return mask("\n".join(out))

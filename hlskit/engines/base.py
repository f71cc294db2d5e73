"""The engine seam: what an engine can make (:class:`Capabilities`) and what it does.

An engine runs a plan's jobs (one per definition, as MPS's) and reports how they ended; it
never publishes. The pipeline plans from an engine's capabilities and its planning hooks, and
never asks an engine's name: a new engine is a module in ``engines/`` and one registry line in
``engines/__init__.py``.

Two ways of running exist. An *attached* engine (``detached=False``, the local FFmpeg engine)
runs the jobs in the calling process: :meth:`Engine.run` returns when they have ended. A
*detached* engine (MPS, Celery workers) hands the jobs to something that outlives this process:
:meth:`Engine.submit` returns at once and :meth:`Engine.follow` (``hlskit status --wait``, from
any process that sees the job store) waits for them; ``run`` is both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from ..domain.errors import InputError
from ..domain.formats import choose_format, codec_rungs
from ..domain.ladder import Rung
from ..domain.media import MediaInfo
from ..domain.outputs import DefinitionOutput, DownloadOutput
from ..domain.plan import PackagePlan, ProgressCallback
from ..domain.runs import Job
from ..stores.jobs import JobStore

FOLDER, OSS = "folder", "oss"  # where an engine writes a package
ABSOLUTE, ROOT_RELATIVE = "absolute", "root-relative"  # key URL kinds (RFC 3986 §4.3 / §4.2)


@dataclass(frozen=True)
class Capabilities:
    """What an engine can make; the planner refuses, before anything is created, what it cannot."""

    formats: tuple[str, ...]  # segment formats of HLS definitions ("ts", "fmp4")
    codecs: tuple[str, ...]  # video codecs of HLS definitions ("h264", "hevc", "av1")
    download_codecs: tuple[str, ...]  # codecs of MP4 downloads (--mp4); () when it makes none
    outputs: tuple[str, ...]  # where packages go: FOLDER (a local or shared folder), OSS (oss://bucket/prefix)
    key_urls: tuple[str, ...]  # key URL kinds it can write: ABSOLUTE, ROOT_RELATIVE
    key_rotation: bool  # several data keys per definition (--rotate-key-every)
    explicit_iv: bool  # playlists carry each key's IV (else players use the media sequence number)
    thumbnails: bool  # a seek-bar sprite and WebVTT thumbnails track beside the master
    renditions: bool  # audio renditions (one per language, EXT-X-MEDIA) and WebVTT subtitle renditions
    detached: bool  # jobs outlive this process: submit returns at once, `status --wait` finishes the run
    # "run": a running run stops as a whole within seconds, one job alone only while Submitted;
    # "queued": only jobs still Submitted can be cancelled, running ones end on their own (MPS CancelJob).
    cancel: Literal["run", "queued"]
    # A single-audio title's audio muxed into each definition; False: always an audio rendition
    # (an engine that encodes a title in chunks would restart the AAC encoder, and click, at each).
    muxed_audio: bool = True


@dataclass
class EngineReport:
    """How a plan's jobs ended, and what the engine measured of their outputs."""

    jobs: list[Job]
    outputs: dict[str, DefinitionOutput] = field(default_factory=dict)  # definition → what it wrote
    downloads: dict[str, DownloadOutput] = field(default_factory=dict)  # definition → its MP4 download
    audio: dict[str, DefinitionOutput] = field(default_factory=dict)  # audio rendition slug → what it wrote
    subtitles: dict[str, DefinitionOutput] = field(default_factory=dict)  # subtitle rendition slug → its playlist
    thumbnails: dict | None = None  # {"sprite", "track", ...} when made (names.SPRITE, names.THUMBNAILS)
    warnings: list[str] = field(default_factory=list)  # sentences every definition shares (HDR tone-mapped…)


class Engine(ABC):
    """An engine; subclasses set ``name`` and ``capabilities`` and implement run and cancel."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    # --- planning hooks (called before anything is created) ---------------------------------

    def choose_format(self, option: str | None, codecs: tuple[str, ...], mp4: bool) -> str:
        """The segment format for ``--format`` ``option`` and the asked ``codecs``."""
        fmt = choose_format(option, codecs)
        if fmt not in self.capabilities.formats:
            raise InputError(
                f"the {self.name} engine cannot write {fmt} segments: use --format {self.capabilities.formats[0]}."
            )
        return fmt

    def shape_ladder(self, rungs: list[Rung], codecs: tuple[str, ...], mp4: bool) -> tuple[list[Rung], list[Rung]]:
        """(HLS rungs, MP4 download rungs) from the ladder's definitions: one rung per definition
        per codec (:func:`hlskit.domain.formats.codec_rungs`), every one also a download with --mp4."""
        hls = codec_rungs(rungs, codecs)
        return hls, list(hls) if mp4 else []

    def check_source(self, media: MediaInfo, source: str) -> None:
        """Refuse a source this engine cannot package (raise InputError); the default takes any."""
        return None

    def check_plan(self, plan: PackagePlan) -> None:
        """Refuse, with no network and nothing created, a plan this engine cannot run."""
        return None

    def command(self, plan: PackagePlan) -> list[str] | None:
        """The exact command a run would start, for ``--dry-run`` (None: no local command)."""
        return None

    # --- running --------------------------------------------------------------------------

    @abstractmethod
    def run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback) -> EngineReport:
        """Run every job of the plan until each has ended. One failing definition must not stop the
        others; a job cancelled in the store (``hlskit cancel``) is dropped at the engine's next check."""

    def submit(self, plan: PackagePlan, store: JobStore) -> list[Job]:
        """Send the plan's jobs without waiting; return them as accepted or refused (detached engines)."""
        raise NotImplementedError(f"the {self.name} engine runs its jobs in the process that plans them")

    def follow(self, jobs: list[Job], store: JobStore, progress: ProgressCallback, package: str) -> EngineReport:
        """Follow submitted jobs until each has ended (detached engines); ``package`` is where the run writes."""
        raise NotImplementedError(f"the {self.name} engine runs its jobs in the process that plans them")

    @abstractmethod
    def cancel(self, job: Job) -> None:
        """Stop one job where it runs, or raise a sentence saying why it cannot be stopped."""

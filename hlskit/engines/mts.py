"""The ``mts`` engine: the plan's jobs on Alibaba Cloud MPS, media in OSS, completion by polling or MNS.

One SubmitJobs call carries one source and up to 30 ``Outputs``, one MPS job each: a definition's
HLS, or with ``--mp4`` a definition's MP4 download (the request itself: :mod:`.mts_outputs`; what
MPS can make: :mod:`.mts_formats`). QueryJobList takes up to 10 job ids. MPS writes
``<staging>/<DEF>/index.m3u8`` and ``index-00001.ts`` … (and ``<staging>/downloads/<DEF>.mp4``)
straight into the output bucket; finishing (stitch, validate, publish) is the pipeline's, as for
the local engine. This module never imports the pipeline, hls or config. Only Base64 (or KMS)
data keys travel in the request, URL-safe Base64 as MPS demands; nothing here logs a request's
parameters.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..aliyun import mns as _mns
from ..aliyun.rpc import AliyunRpc
from ..domain.configs import MpsConfig
from ..domain.errors import ConfigError, InputError, JobError
from ..domain.ladder import Rung
from ..domain.names import MP4_SUFFIX
from ..domain.outputs import DownloadOutput
from ..domain.plan import PackagePlan, ProgressCallback, Watermark
from ..domain.runs import Job, JobState
from ..storage import is_remote
from ..storage.oss import OssStorage, split_oss_uri, upload_with_progress
from ..stores.jobs import JobStore
from .base import ABSOLUTE, OSS, Capabilities, Engine, EngineReport
from .mts_formats import check_mts_options, mts_rungs
from .mts_outputs import Submission, build_submission, check_submission

MAX_OUTPUTS_PER_SUBMIT = 30  # SubmitJobs limit
MAX_IDS_PER_QUERY = 10  # QueryJobList limit
SOURCES_PREFIX = "hlskit-sources"  # where local sources and watermark images are uploaded


# --- the engine -------------------------------------------------------------------------------


class MtsEngine(Engine):
    name = "mts"
    capabilities = Capabilities(
        formats=("ts",),  # MPS writes HLS as Container.Format m3u8: TS segments
        codecs=("h264",),  # HEVC in HLS needs fMP4 (Apple HLS authoring spec 1.5); no AV1 on MPS
        download_codecs=("h264", "hevc"),  # Container.Format mp4 with Video.Codec H.264 or H.265
        outputs=(OSS,),
        key_urls=(ABSOLUTE,),  # Encryption.KeyUri is an absolute URL
        key_rotation=False,  # one key per output
        explicit_iv=False,  # MPS takes no IV: players use the media sequence number (RFC 8216 §5.2)
        thumbnails=False,  # MPS snapshots are jobs of their own (SubmitSnapshotJob), not made here
        renditions=False,  # docs/alibaba-cloud.md: why audio/subtitle renditions are refused on MPS
        detached=True,
        cancel="queued",  # CancelJob works only while a job is Submitted
    )

    def __init__(
        self,
        config: MpsConfig,
        *,
        poll_interval: float = 2.0,
        max_poll_interval: float = 30.0,
        mns_wait_seconds: int = 10,
        mns_poll_every: float = 60.0,
        timeout: float | None = None,
    ):
        self.config = config
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.mns_wait_seconds = mns_wait_seconds
        self.mns_poll_every = mns_poll_every  # with MNS, a slow poll still shows Transcoding and catches lost messages
        self.timeout = timeout
        self._rpc: AliyunRpc | None = None
        self._storages: dict[str, OssStorage] = {}
        self._properties: dict[str, dict[str, Any]] = {}  # MPS JobId → Output.Properties of a finished job

    # --- plumbing -----------------------------------------------------------------------

    @property
    def rpc(self) -> AliyunRpc:
        if self._rpc is None:
            self._rpc = AliyunRpc(self.config.aliyun, self.config.endpoint_host, "MPS")
        return self._rpc

    def storage(self, bucket: str) -> OssStorage:
        if bucket not in self._storages:
            self._storages[bucket] = OssStorage.from_config(bucket, self.config.oss)
        return self._storages[bucket]

    @property
    def location(self) -> str:
        return self.config.oss.region_location

    # --- planning hooks -------------------------------------------------------------------

    def choose_format(self, option: str | None, codecs: tuple[str, ...], mp4: bool) -> str:
        check_mts_options(option, codecs, mp4)
        return "ts"

    def shape_ladder(self, rungs: list[Rung], codecs: tuple[str, ...], mp4: bool) -> tuple[list[Rung], list[Rung]]:
        return mts_rungs(rungs, codecs, mp4)

    def check_plan(self, plan: PackagePlan) -> None:
        check_submission(plan)

    # --- Engine protocol ----------------------------------------------------------------

    def run(self, plan: PackagePlan, store: JobStore, progress: ProgressCallback) -> EngineReport:
        """Submit, then follow every job to its end."""
        return self.follow(self.submit(plan, store), store, progress, plan.out, planned_duration(plan))

    def follow(
        self,
        jobs: list[Job],
        store: JobStore,
        progress: ProgressCallback,
        package: str,
        duration: float | None = None,
    ) -> EngineReport:
        """Wait for MPS's jobs, then measure their MP4 downloads (an OSS HEAD each)."""
        ended = self.wait(store, jobs, progress)
        return EngineReport(ended, downloads=self.downloads(ended, package, duration))

    def submit(self, plan: PackagePlan, store: JobStore) -> list[Job]:
        """Send the plan's jobs to MPS without waiting; return them as MPS accepted or refused them."""
        if not self.config.pipeline_id:
            raise ConfigError(
                "no MPS pipeline configured: set HLSKIT_MTS_PIPELINE_ID (or pipeline_id under [mts]) "
                "to the pipeline id shown in the MPS console."
            )
        self.config.aliyun.credentials()
        sub = self.build_submission(plan)
        for job in sub.jobs:
            if store.get(job.job_id) is None:
                store.add(job)
            store.update(job.job_id, engine=self.name, source=plan.source, output=job.output, user_data=job.user_data)
        ended: list[Job] = []
        for first in range(0, len(sub.outputs), MAX_OUTPUTS_PER_SUBMIT):
            outputs = sub.outputs[first : first + MAX_OUTPUTS_PER_SUBMIT]
            jobs = sub.jobs[first : first + MAX_OUTPUTS_PER_SUBMIT]
            # the SDK loads where MPS is used, not at every hlskit command's start
            from aliyunsdkmts.request.v20140618.SubmitJobsRequest import SubmitJobsRequest

            req = SubmitJobsRequest()
            # Input and Outputs in the POST body (as Alibaba's newer SDKs send them): in the query
            # string 30 encrypted, clipped, watermarked outputs made a URL of about 49 KB, past what
            # the API gateway takes (414)
            req.set_method("POST")
            req.add_body_params("Input", json.dumps(sub.input, separators=(",", ":")))
            req.add_body_params("Outputs", json.dumps(outputs, separators=(",", ":")))
            req.set_OutputBucket(sub.output_bucket)
            req.set_OutputLocation(self.location)
            req.set_PipelineId(self.config.pipeline_id)
            answer = self.rpc.call(req, idempotent=False)
            results = answer.get("JobResultList", {}).get("JobResult", [])
            if len(results) != len(jobs):
                raise JobError(
                    f"MPS answered {len(results)} job results for {len(jobs)} outputs: "
                    "check the MPS console before submitting again."
                )
            for job, result in zip(jobs, results):
                ended.append(self._record_submit(store, job, result))
        return ended

    def downloads(self, jobs: Iterable[Job], package: str, duration: float | None = None) -> dict[str, DownloadOutput]:
        """Definition name → its MP4 download, for each finished MP4 download job.

        ``uri`` is relative to the package's location ``package`` (the master's folder), ``bytes``
        the object's size (an OSS HEAD), ``duration`` MPS's ``Output.Properties.Duration`` of the
        job (seconds), else ``duration`` (the plan's). The jobs are recognised by their name,
        ``<definition>.mp4``; their MPS properties come from the last look at them, or from one
        more QueryJobList when this process did not follow them to their end.
        """
        done = [j for j in jobs if j.definition.endswith(MP4_SUFFIX) and j.state == JobState.SUCCESS]
        unseen = [j.remote_id for j in done if j.remote_id and j.remote_id not in self._properties]
        for remote in self.query(unseen).values() if unseen else ():
            if remote is not None:
                self._remember(remote)
        made: dict[str, DownloadOutput] = {}
        prefix = package.rstrip("/") + "/"
        for job in done:
            bucket, key = split_oss_uri(job.output)
            seconds = _seconds(self._properties.get(job.remote_id, {}).get("Duration"))
            made[job.definition[: -len(MP4_SUFFIX)]] = DownloadOutput(
                bytes=self.storage(bucket).size(key),
                uri=job.output[len(prefix) :] if job.output.startswith(prefix) else job.output,
                duration=seconds if seconds is not None else duration,
            )
        return made

    def _record_submit(self, store: JobStore, job: Job, result: dict[str, Any]) -> Job:
        remote = result.get("Job") or {}
        if not _true(result.get("Success")) or not remote.get("JobId"):
            return store.update(
                job.job_id,
                state=JobState.FAIL,
                code=result.get("Code") or "SubmitFailed",
                message=result.get("Message") or "MPS refused this output",
            )
        return self._apply(store, job.job_id, remote, remote_id=remote["JobId"])

    def wait(self, store: JobStore, jobs: Iterable[Job], progress: ProgressCallback) -> list[Job]:
        """Follow MPS jobs until each has ended (or was cancelled in the store)."""
        jobs = list(jobs)
        label = _labeller(jobs)
        pending = {j.job_id: j for j in jobs if not j.state.finished and j.remote_id}
        done = {j.job_id: j for j in jobs if j.job_id not in pending}
        for j in done.values():
            progress(label(j), 100.0)
        queue = self._mns_queue()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        interval = self.poll_interval
        last_poll = float("-inf")
        while pending:
            for job_id in list(pending):  # `hlskit cancel` marks the store; drop those here
                current = store.get(job_id)
                if current is None or current.state.finished:
                    done[job_id] = current or pending[job_id]
                    del pending[job_id]
            if not pending:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise JobError(
                    f"{len(pending)} MPS jobs still running after {self.timeout:.0f} s: "
                    "follow them with `hlskit status --wait`."
                )
            if queue is not None:
                changed = self._drain_mns(queue, store, pending, self.mns_wait_seconds)
                if time.monotonic() - last_poll >= self.mns_poll_every:
                    changed = self._query(store, pending) or changed
                    last_poll = time.monotonic()
            else:
                changed = self._query(store, pending)
                interval = self.poll_interval if changed else min(interval * 1.5, self.max_poll_interval)
            for job_id in list(pending):
                job = pending[job_id] = store.get(job_id) or pending[job_id]
                progress(label(job), 100.0 if job.state.finished else float(job.percent))
                if job.state.finished:
                    done[job_id] = pending.pop(job_id)
            if pending and queue is None:
                time.sleep(interval)
        if queue is not None:  # a poll may have seen the end first: still consume those messages
            self._drain_mns(queue, store, {}, 0)
        return [done[j.job_id] for j in jobs]

    def cancel(self, job: Job) -> None:
        """CancelJob, which MPS allows only while the job is still Submitted (queued).

        Asking MPS directly (rather than checking the state first) leaves no window for the job
        to start between the check and the cancel; MPS's refusal becomes the error.
        """
        if not job.remote_id:
            raise InputError(f"job {job.job_id} has no MPS job id (it was never accepted): nothing to cancel on MPS.")
        # the SDK loads where MPS is used, not at every hlskit command's start
        from aliyunsdkmts.request.v20140618.CancelJobRequest import CancelJobRequest

        req = CancelJobRequest()
        req.set_JobId(job.remote_id)
        self.rpc.call(req)

    # --- building the request -----------------------------------------------------------

    def build_submission(self, plan: PackagePlan) -> Submission:
        """The Input and one Output per job (:mod:`.mts_outputs`), refused before any upload or request."""
        check_submission(plan)
        out_bucket, _ = split_oss_uri(plan.staging)
        source = self._remote(plan.source, plan.content_id, out_bucket)
        marks = [self._remote_mark(w, plan.content_id, out_bucket) for w in plan.watermarks]
        return build_submission(plan, source, marks, self.location, self.config.crf)

    def _remote(self, location: str, content_id: str, bucket: str) -> str:
        """An oss:// URI for a source: as given, or uploaded from a local path first."""
        if is_remote(location):
            src_bucket, key = split_oss_uri(location)
            if not self.storage(src_bucket).exists(key):
                raise InputError(f"{location} does not exist: upload it first or fix the key.")
            return location
        path = Path(location)
        if not path.is_file():
            raise InputError(f"{location} does not exist: give a local file or an oss://bucket/key.")
        key = f"{SOURCES_PREFIX}/{content_id}/{path.name}"
        return upload_with_progress(self.storage(bucket), path, key, label=f"upload {path.name}")

    def _remote_mark(self, w: Watermark, content_id: str, bucket: str) -> Watermark:
        if w.kind != "image":
            return w
        uri = self._remote(w.image, content_id, bucket)
        src_bucket, key = split_oss_uri(uri)
        if self.storage(src_bucket).read_bytes(key, 0, 8) != b"\x89PNG\r\n\x1a\n":
            raise InputError(f"watermark {w.image} is not a PNG image: MPS takes PNG (with alpha) watermarks.")
        return Watermark(**{**w.__dict__, "image": uri})

    # --- following jobs -----------------------------------------------------------------

    def query(self, remote_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """QueryJobList in groups of ≤ 10: remote id → MPS Job, or None for ids MPS does not know."""
        found: dict[str, dict[str, Any] | None] = {}
        for first in range(0, len(remote_ids), MAX_IDS_PER_QUERY):
            group = remote_ids[first : first + MAX_IDS_PER_QUERY]
            # the SDK loads where MPS is used, not at every hlskit command's start
            from aliyunsdkmts.request.v20140618.QueryJobListRequest import QueryJobListRequest

            req = QueryJobListRequest()
            req.set_JobIds(",".join(group))
            answer = self.rpc.call(req)
            for remote in answer.get("JobList", {}).get("Job", []):
                found[remote["JobId"]] = remote
            for missing in answer.get("NonExistJobIds", {}).get("String", []):
                found[missing] = None
        return found

    def _query(self, store: JobStore, pending: dict[str, Job]) -> bool:
        by_remote = {j.remote_id: j for j in pending.values()}
        changed = False
        for remote_id, remote in self.query(list(by_remote)).items():
            job = by_remote.get(remote_id)
            if job is None:
                continue
            if remote is None:
                store.update(
                    job.job_id,
                    state=JobState.FAIL,
                    code="NonExistJob",
                    message=f"MPS does not know job {remote_id} (NonExistJobIds): submit the package again",
                )
                changed = True
                continue
            before = (job.state, job.percent)
            updated = self._apply(store, job.job_id, remote)
            changed = changed or (updated.state, updated.percent) != before
        return changed

    def _apply(self, store: JobStore, job_id: str, remote: dict[str, Any], **extra: Any) -> Job:
        """Copy an MPS Job's state, percent, code and message (and output file) into the store."""
        changes: dict[str, Any] = dict(extra)
        state = remote.get("State")
        if state in {s.value for s in JobState}:
            changes["state"] = JobState(state)
        if remote.get("Percent") is not None:
            changes["percent"] = int(remote.get("Percent") or 0)
        if state == JobState.SUCCESS.value:
            changes["percent"] = 100
            self._remember(remote)
            out = (remote.get("Output") or {}).get("OutputFile") or {}
            if out.get("Bucket") and out.get("Object"):
                changes["output"] = f"oss://{out['Bucket']}/{unquote(out['Object'])}"
        if state == JobState.FAIL.value or remote.get("Code"):
            changes["code"] = remote.get("Code") or ""
            changes["message"] = remote.get("Message") or ""
        return store.update(job_id, **changes)

    def _remember(self, remote: dict[str, Any]) -> None:
        """Keep a finished job's Output.Properties (Duration, FileSize, …): its download's facts."""
        props = (remote.get("Output") or {}).get("Properties")
        if remote.get("JobId"):
            self._properties[remote["JobId"]] = props if isinstance(props, dict) else {}

    def _mns_queue(self):
        if not self.config.mns.queue:
            return None
        return _mns.MnsQueue.from_config(self.config.mns)

    def _drain_mns(self, queue, store: JobStore, pending: dict[str, Job], wait_seconds: int) -> bool:
        """Receive MPS's completion messages; delete those of jobs this store knows, query the pending ones."""
        ours = {j.remote_id: j for j in pending.values()}
        finished = []
        for msg in queue.receive(wait_seconds):
            if msg.job_id in ours:
                finished.append(ours[msg.job_id])
            elif not any(j.remote_id == msg.job_id for j in store.list(msg.job_id)):
                continue  # another job store's message: leave it for the process that owns that job
            queue.delete(msg.receipt_handle)
        if finished:
            self._query(store, {j.job_id: j for j in finished})
        return bool(finished)


def _labeller(jobs: list[Job]):
    """Progress label: the definition, prefixed by the content id when several packages are followed."""
    if len({j.content_id for j in jobs}) <= 1:
        return lambda j: j.definition
    return lambda j: f"{j.content_id}/{j.definition}"


def planned_duration(plan: PackagePlan) -> float | None:
    """Seconds of video the plan encodes: the clip's, else the source's from the clip's start."""
    if plan.clip is not None and plan.clip.duration is not None:
        return plan.clip.duration
    if plan.media is None:
        return None
    return max(0.0, plan.media.duration - (plan.clip.seek if plan.clip else 0.0))


def _seconds(value: Any) -> float | None:
    """MPS reports Properties values as strings ("12.345"); None when absent or not a number."""
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _true(v: Any) -> bool:
    return v is True or str(v).lower() == "true"

"""Local stand-ins for Alibaba Cloud MPS (+ KMS), MNS and OSS, served over real HTTP on 127.0.0.1.

They are written from the published API descriptions (docs/alibaba-cloud.md, the shared
reference digest), not from the SDKs: each request's signature is recomputed here from the
documented algorithm and refused when it does not match, parameters are checked the way MPS
documents them, and answers have the documented shapes. They are stand-ins — passing against
them does not prove the live service behaves the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import posixpath
import re
import secrets
import socket
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# Identities the stand-ins accept (test values, not real credentials).
AK, SECRET = "LTAI5tStandInKeyId", "standin-secret-never-printed-7f3a"
PIPELINE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
KMS_KEY = "key-standin-0001"
QUEUE = "mts-standin-queue"

# Static presets: M3U8 S00000001-1000x0 and their MP4 twins S00000001-2000x0 (same ladder).
M3U8_TEMPLATES = {f"S00000001-1000{i}0" for i in range(1, 8)}
MP4_TEMPLATES = {f"S00000001-2000{i}0" for i in range(1, 8)}
# M3U8-COPY and MP4-COPY: encapsulation only ("does not recode the input": no Video overrides)
COPY_TEMPLATES = {"S00000001-100000", "S00000001-200000"}
MPS_TEMPLATES = M3U8_TEMPLATES | MP4_TEMPLATES | COPY_TEMPLATES
CONTAINERS = {"m3u8", "mp4", "flv"}  # the video containers MPS documents (Container.Format)
VIDEO_CODECS = {"H.264", "H.265"}  # Video.Codec for video outputs
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def _pct(s: str) -> str:
    """Alibaba's RPC percent-encoding: RFC 3986 unreserved characters stay, the rest is %XX."""
    return quote(s, safe="-_.~")


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 with a free port, run in a daemon thread."""

    handler: type[BaseHTTPRequestHandler]

    def start(self):
        owner = self

        class H(self.handler):  # type: ignore[misc, valid-type]
            standin = owner

            def log_message(self, *a):  # keep pytest output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# =========================================================================== OSS


@dataclass
class OssObject:
    data: bytes
    content_type: str
    etag: str
    mtime: float = field(default_factory=time.time)


class OssStandIn(_Server):
    """Path-style OSS (oss2 uses path style for an IP endpoint) with V1 header and URL signatures."""

    SUBRESOURCES = {"acl", "uploads", "uploadId", "partNumber", "continuation-token", "x-oss-process", "objectMeta"}

    def __init__(self, keys: dict[str, str]):
        self.keys = keys  # AccessKeyId → secret
        self.buckets: dict[str, dict[str, OssObject]] = {}
        self.acl: dict[str, str] = {}
        self.uploads: dict[str, dict] = {}
        self.log: list[tuple[str, str, str]] = []  # (method, bucket, key or query)
        self.lock = threading.Lock()
        self.handler = _OssHandler

    def create_bucket(self, name: str, acl: str = "private") -> None:
        self.buckets.setdefault(name, {})
        self.acl[name] = acl

    def put(self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        with self.lock:
            self.buckets[bucket][key] = OssObject(data, content_type, '"%s"' % hashlib.md5(data).hexdigest().upper())

    def get(self, bucket: str, key: str) -> bytes | None:
        obj = self.buckets.get(bucket, {}).get(key)
        return obj.data if obj else None

    def keys_under(self, bucket: str, prefix: str) -> list[str]:
        return sorted(k for k in self.buckets.get(bucket, {}) if k.startswith(prefix))

    def string_to_sign(self, method, headers, bucket, key, query, date) -> str:
        oss_headers = sorted((k.lower(), v.strip()) for k, v in headers.items() if k.lower().startswith("x-oss-"))
        canon = "".join(f"{k}:{v}\n" for k, v in oss_headers)
        sub = sorted((k, v) for k, v in query if k in self.SUBRESOURCES)
        resource = f"/{bucket}/{key}" if bucket else "/"
        if sub:
            resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in sub)
        return "\n".join(
            [method, headers.get("Content-MD5", ""), headers.get("Content-Type", ""), date, canon + resource]
        )

    def authorise(self, method, headers, bucket, key, query) -> tuple[int, str] | None:
        """None when allowed, else (status, code)."""
        auth = headers.get("Authorization", "")
        q = dict(query)
        if auth.startswith("OSS "):
            ak, _, sig = auth[4:].partition(":")
            date = headers.get("x-oss-date") or headers.get("Date", "")
            try:
                skew = abs(time.time() - parsedate_to_datetime(date).timestamp())
            except (TypeError, ValueError):
                return 403, "AccessDenied"
            if skew > 900:
                return 403, "RequestTimeTooSkewed"
        elif "Signature" in q:
            ak, sig, date = q.get("OSSAccessKeyId", ""), q["Signature"], q.get("Expires", "")
            if not date.isdigit() or int(date) < time.time():
                return 403, "AccessDenied"  # expired signed URL
        else:
            if method in ("GET", "HEAD") and key and self.acl.get(bucket) in ("public-read", "public-read-write"):
                return None
            return 403, "AccessDenied"
        secret = self.keys.get(ak)
        if secret is None:
            return 403, "InvalidAccessKeyId"
        expected = base64.b64encode(
            hmac.new(
                secret.encode(), self.string_to_sign(method, headers, bucket, key, query, date).encode(), hashlib.sha1
            ).digest()
        ).decode()
        if not hmac.compare_digest(expected, sig):
            return 403, "SignatureDoesNotMatch"
        return None


def _xml(tag: str, **children) -> bytes:
    root = ET.Element(tag)
    for k, v in children.items():
        ET.SubElement(root, k).text = str(v)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)


class _OssHandler(BaseHTTPRequestHandler):
    standin: OssStandIn
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head=False):
        self.send_response(status)
        hdrs = {"x-oss-request-id": uuid.uuid4().hex.upper(), "Content-Length": str(len(body))}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def _error(self, status: int, code: str, head=False):
        body = _xml("Error", Code=code, Message=code, RequestId=uuid.uuid4().hex.upper(), HostId="127.0.0.1")
        headers = {"Content-Type": "application/xml"}
        if head:  # a HEAD answer has no body: OSS puts the error document, Base64, in x-oss-err
            headers["x-oss-err"] = base64.b64encode(body).decode()
            body = b""
        self._send(status, body, headers, head)

    def _route(self, method: str):
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        s = self.standin
        head = method == "HEAD"
        s.log.append((method, bucket, f"{key}?{parts.query}" if parts.query else key))
        if bucket not in s.buckets:
            return self._error(404, "NoSuchBucket", head)
        denied = s.authorise(method, self.headers, bucket, key, query)
        if denied:
            return self._error(denied[0], denied[1], head)
        q = dict(query)
        if not key:
            return self._bucket_op(method, bucket, q)
        if method == "PUT" and "uploadId" in q:
            up = s.uploads.get(q["uploadId"])
            if up is None:
                return self._error(404, "NoSuchUpload")
            up["parts"][int(q["partNumber"])] = body
            return self._send(200, headers={"ETag": '"%s"' % hashlib.md5(body).hexdigest().upper()})
        if method == "PUT":
            md5 = self.headers.get("Content-MD5")
            if md5 and md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
                return self._error(400, "InvalidDigest")
            s.put(bucket, key, body, self.headers.get("Content-Type", "application/octet-stream"))
            return self._send(200, headers={"ETag": s.buckets[bucket][key].etag})
        if method == "POST" and "uploads" in q:
            upload_id = uuid.uuid4().hex.upper()
            s.uploads[upload_id] = {
                "bucket": bucket,
                "key": key,
                "parts": {},
                "type": self.headers.get("Content-Type", "application/octet-stream"),
            }
            return self._send(
                200,
                _xml("InitiateMultipartUploadResult", Bucket=bucket, Key=key, UploadId=upload_id),
                {"Content-Type": "application/xml"},
            )
        if method == "POST" and "uploadId" in q:
            up = s.uploads.pop(q["uploadId"], None)
            if up is None:
                return self._error(404, "NoSuchUpload")
            numbers = [int(p.findtext("PartNumber")) for p in ET.fromstring(body).iter("Part")]
            s.put(bucket, key, b"".join(up["parts"][n] for n in numbers), up["type"])
            return self._send(
                200,
                _xml("CompleteMultipartUploadResult", Bucket=bucket, Key=key, ETag=s.buckets[bucket][key].etag),
                {"Content-Type": "application/xml"},
            )
        if method == "GET" and "uploadId" in q:  # ListParts: resumable_upload asks what is already there
            up = s.uploads.get(q["uploadId"])
            if up is None:
                return self._error(404, "NoSuchUpload")
            root = ET.Element("ListPartsResult")
            for tag, val in (
                ("Bucket", bucket),
                ("Key", key),
                ("UploadId", q["uploadId"]),
                ("PartNumberMarker", 0),
                ("NextPartNumberMarker", max(up["parts"], default=0)),
                ("MaxParts", 1000),
                ("IsTruncated", "false"),
            ):
                ET.SubElement(root, tag).text = str(val)
            for n, data in sorted(up["parts"].items()):
                part = ET.SubElement(root, "Part")
                for tag, val in (
                    ("PartNumber", n),
                    ("LastModified", _now()),
                    ("Size", len(data)),
                    ("ETag", '"%s"' % hashlib.md5(data).hexdigest().upper()),
                ):
                    ET.SubElement(part, tag).text = str(val)
            return self._send(200, ET.tostring(root), {"Content-Type": "application/xml"})
        if method == "DELETE":
            s.buckets[bucket].pop(key, None)
            return self._send(204)
        obj = s.buckets[bucket].get(key)
        if obj is None:
            return self._error(404, "NoSuchKey", head)
        data, status, extra = obj.data, 200, {}
        rng = re.match(r"bytes=(\d*)-(\d*)$", self.headers.get("Range", ""))
        if rng and (rng.group(1) or rng.group(2)):
            first = int(rng.group(1)) if rng.group(1) else len(data) - int(rng.group(2))
            last = int(rng.group(2)) if rng.group(1) and rng.group(2) else len(data) - 1
            last = min(last, len(data) - 1)
            if first >= len(data):
                return self._error(416, "InvalidRange", head)
            extra["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            data, status = data[first : last + 1], 206
        self._send(
            status,
            data,
            {
                "Content-Type": obj.content_type,
                "ETag": obj.etag,
                "Accept-Ranges": "bytes",
                "Last-Modified": formatdate(obj.mtime, usegmt=True),
                **extra,
            },
            head,
        )

    def _bucket_op(self, method: str, bucket: str, q: dict):
        s = self.standin
        if method == "GET" and "acl" in q:
            root = ET.Element("AccessControlPolicy")
            ET.SubElement(ET.SubElement(root, "Owner"), "ID").text = "0"
            ET.SubElement(ET.SubElement(root, "AccessControlList"), "Grant").text = s.acl[bucket]
            return self._send(200, ET.tostring(root), {"Content-Type": "application/xml"})
        if method == "GET" and q.get("list-type") == "2":
            prefix, token = q.get("prefix", ""), q.get("continuation-token", "")
            max_keys = int(q.get("max-keys", 100))
            keys = [k for k in sorted(s.buckets[bucket]) if k.startswith(prefix) and k > token]
            page, more = keys[:max_keys], len(keys) > max_keys
            url = q.get("encoding-type") == "url"
            root = ET.Element("ListBucketResult")
            for tag, val in (
                ("Name", bucket),
                ("Prefix", quote(prefix) if url else prefix),
                ("MaxKeys", max_keys),
                ("KeyCount", len(page)),
                ("IsTruncated", str(more).lower()),
            ):
                ET.SubElement(root, tag).text = str(val)
            if url:
                ET.SubElement(root, "EncodingType").text = "url"
            if more:
                ET.SubElement(root, "NextContinuationToken").text = page[-1]
            for k in page:
                obj = s.buckets[bucket][k]
                c = ET.SubElement(root, "Contents")
                for tag, val in (
                    ("Key", quote(k) if url else k),
                    ("LastModified", datetime.fromtimestamp(obj.mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")),
                    ("ETag", obj.etag),
                    ("Type", "Normal"),
                    ("Size", len(obj.data)),
                    ("StorageClass", "Standard"),
                ):
                    ET.SubElement(c, tag).text = str(val)
            return self._send(200, ET.tostring(root), {"Content-Type": "application/xml"})
        return self._error(400, "NotImplemented")

    def do_GET(self):
        self._route("GET")

    def do_HEAD(self):
        self._route("HEAD")

    def do_PUT(self):
        self._route("PUT")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")


# =========================================================================== MPS + KMS + MNS

Rendition = list[tuple[float, bytes]]  # (duration, plain TS bytes) per segment
# (template id of the M3U8 twin, "H.264" or "H.265") → the bytes of a progressive MP4 of that rendition
Mp4Maker = Callable[[str, str], bytes]


class AliyunStandIn(_Server):
    """MPS (Mts 2014-06-18) and KMS (2016-01-20) RPC, plus an MNS queue, on one port.

    Jobs advance one state per look (QueryJobList of that job, or any MNS receive):
    Submitted → Transcoding → TranscodeSuccess/TranscodeFail. On success the stand-in "transcodes"
    by writing a pre-made real HLS rendition for the job's template into the OSS stand-in, encrypted
    with the Key and KeyUri taken from the request, like MPS (IV = media sequence number); an
    MP4 output (Container.Format "mp4", an MP4 preset S00000001-2000x0) gets that rendition as one
    progressive MP4 in the Video.Codec asked (H.264 or H.265) and MPS's Output.Properties.
    """

    VERSIONS = {
        "SubmitJobs": "2014-06-18",
        "QueryJobList": "2014-06-18",
        "CancelJob": "2014-06-18",
        "GenerateDataKey": "2016-01-20",
        "Decrypt": "2016-01-20",
    }

    def __init__(
        self,
        keys: dict[str, str],
        oss: OssStandIn,
        renditions: dict[str, Rendition],
        pipelines: set[str],
        kms_keys: set[str] = frozenset(),
        queue: str | None = None,
        mp4: Mp4Maker | None = None,
    ):
        self.keys = keys
        self.oss = oss
        self.renditions = renditions
        self.mp4 = mp4
        self.pipelines = pipelines
        self.kms_keys = set(kms_keys)
        self.kms_blobs: dict[str, bytes] = {}
        self.jobs: dict[str, dict] = {}
        self.calls: list[dict] = []  # every accepted RPC request's parameters
        self.nonces: set[str] = set()
        self.throttle: dict[str, int] = {}  # action → how many next calls answer Throttling
        self.transient: dict[str, int] = {}  # action → how many next calls answer 500 InternalError
        self.lose_answer: dict[str, int] = {}  # action → how many next calls are done but never answered
        self.fail_rule: Callable[[dict], tuple[str, str] | None] = lambda job: None
        self.queue = queue
        self.messages: list[dict] = []  # visible MNS messages
        self.inflight: dict[str, tuple[dict, float]] = {}  # receipt handle → (message, visible again at)
        self.visibility = 30.0
        self.advance_on_query = True  # False: jobs move only when the MNS queue is read
        self.lock = threading.RLock()
        self.handler = _AliyunHandler

    # --- RPC checks -------------------------------------------------------------------

    def check_rpc(self, method: str, params: dict[str, str]) -> tuple[int, str, str] | None:
        for name in (
            "Action",
            "Version",
            "Format",
            "AccessKeyId",
            "SignatureMethod",
            "SignatureVersion",
            "SignatureNonce",
            "Timestamp",
            "Signature",
        ):
            if not params.get(name):
                return (
                    400,
                    "MissingParameter",
                    f'The input parameter "{name}" that is mandatory for processing this request is not supplied.',
                )
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return 400, "InvalidParameter", "SignatureMethod/SignatureVersion not supported."
        want = self.VERSIONS.get(params["Action"])
        if want is None:
            return 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."
        if params["Version"] != want:
            return 400, "InvalidVersion", "Specified parameter Version is not valid."
        try:
            ts = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return 400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
        if abs((datetime.now(UTC) - ts).total_seconds()) > 900:
            return 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
        secret = self.keys.get(params["AccessKeyId"])
        if secret is None:
            return 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
        signed = {k: v for k, v in params.items() if k != "Signature"}
        canon = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(signed.items()))
        to_sign = f"{method}&{_pct('/')}&{_pct(canon)}"
        expected = base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, params["Signature"]):
            return (
                400,
                "SignatureDoesNotMatch",
                f"Specified signature is not matched with our calculation. server string to sign is:{to_sign}",
            )
        if params["SignatureNonce"] in self.nonces:
            return 400, "SignatureNonceUsed", "Specified signature nonce was used already."
        self.nonces.add(params["SignatureNonce"])
        left = self.throttle.get(params["Action"], 0)
        if left:
            self.throttle[params["Action"]] = left - 1
            return 503, "Throttling.User", "Request was denied due to user flow control."
        left = self.transient.get(params["Action"], 0)
        if left:
            self.transient[params["Action"]] = left - 1
            return 500, "InternalError", "The request processing has failed due to some unknown error."
        return None

    # --- MPS actions ------------------------------------------------------------------

    def submit_jobs(self, p: dict) -> tuple[int, dict]:
        if p.get("PipelineId") not in self.pipelines:
            return 404, {
                "Code": "InvalidParameter.ResourceNotFound",
                "Message": 'The resource operated "PipelineId" cannot be found.',
            }
        for name in ("Input", "Outputs", "OutputBucket"):
            if not p.get(name):
                return 400, {
                    "Code": "InvalidParameter.NullValue",
                    "Message": f'The specified parameter "{name}" cannot be null.',
                }
        try:
            inp, outputs = json.loads(p["Input"]), json.loads(p["Outputs"])
        except ValueError:
            return 400, {"Code": "InvalidParameter.JsonFormatInvalid", "Message": "The parameter is not valid JSON."}
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            return 400, {
                "Code": "InvalidParameter.JsonArrayFormatInvalid",
                "Message": 'The parameter "Outputs" must be a JSON array.',
            }
        if len(outputs) > 30:
            return 400, {"Code": "InvalidParameter.ListSizeExceed", "Message": 'The size of "Outputs" exceeds 30.'}
        if not {"Bucket", "Location", "Object"} <= set(inp):
            return 400, {
                "Code": "InvalidParameter.JsonObjectFormatInvalid",
                "Message": 'The parameter "Input" needs Bucket, Location and Object.',
            }
        results = []
        for out in outputs:
            problem = self.check_output(out)
            if problem:
                results.append({"Success": False, "Code": problem[0], "Message": problem[1]})
                continue
            job_id = uuid.uuid4().hex
            output = {k: v for k, v in out.items() if k not in ("OutputObject", "WaterMarks")}
            output["OutputFile"] = {
                "Bucket": p["OutputBucket"],
                "Location": p.get("OutputLocation", "oss-cn-hangzhou"),
                "Object": out["OutputObject"],
            }
            if "WaterMarks" in out:
                output["WaterMarkList"] = {"WaterMark": out["WaterMarks"]}
            job = {
                "JobId": job_id,
                "State": "Submitted",
                "Code": "",
                "Message": "",
                "Percent": 0,
                "PipelineId": p["PipelineId"],
                "CreationTime": _now(),
                "Input": inp,
                "Output": output,
            }
            with self.lock:
                self.jobs[job_id] = job
            results.append({"Success": True, "Code": "", "Message": "", "Job": job})
        return 200, {"JobResultList": {"JobResult": results}}

    def check_output(self, out: dict) -> tuple[str, str] | None:
        if not out.get("OutputObject"):
            return "InvalidParameter.NullValue", 'The specified parameter "OutputObject" cannot be null.'
        if out.get("TemplateId") not in MPS_TEMPLATES and not re.fullmatch(r"[a-f0-9]{32}", str(out.get("TemplateId"))):
            return "InvalidParameter.TemplateNotFound", 'The resource operated "TemplateId" cannot be found.'
        fmt = (out.get("Container") or {}).get("Format", "mp4")
        if out.get("TemplateId") in COPY_TEMPLATES and out.get("Video"):
            return "InvalidParameter.NotSupported", "A conversion and encapsulation template does not recode the input."
        copy_format = {"S00000001-100000": "m3u8", "S00000001-200000": "mp4"}.get(str(out.get("TemplateId")))
        if copy_format is not None and fmt != copy_format:
            return "InvalidParameter.NotSupported", f"The template {out['TemplateId']} makes {copy_format} only."
        if fmt not in CONTAINERS:
            return "InvalidParameter", f'The parameter "Container.Format" does not support "{fmt}".'
        video = out.get("Video") or {}
        codec = video.get("Codec", "H.264")
        if codec not in VIDEO_CODECS:
            return "InvalidParameter", f'The parameter "Video.Codec" does not support "{codec}".'
        if codec == "H.265" and fmt == "flv":
            return "InvalidParameter.NotSupported", "H.265 is not supported in the flv container."
        for name, low, high in (
            ("Crf", 0, 51),
            ("Bitrate", 10, 50000),
            ("Maxrate", 10, 50000),
            ("Bufsize", 1000, 128000),
        ):
            value = video.get(name)
            if value is not None and not (str(value).isdigit() and low <= int(value) <= high):
                return "InvalidParameter.OutOfRange", f'The parameter "Video.{name}" is out of range [{low},{high}].'
        for name in ("Width", "Height"):
            value = video.get(name)
            if value is not None and not (str(value).isdigit() and 128 <= int(value) <= 4096):
                return "InvalidParameter.OutOfRange", f'The parameter "Video.{name}" is out of range [128,4096].'
        # [1,10] in MPS's current API models (the older parameter appendix said [1,60])
        seg = ((out.get("MuxConfig") or {}).get("Segment") or {}).get("Duration")
        if fmt == "m3u8" and seg is not None and not (str(seg).isdigit() and 1 <= int(seg) <= 10):
            return "InvalidParameter.OutOfRange", 'The parameter "Duration" is out of range [1,10].'
        enc = out.get("Encryption")
        if enc:
            if fmt != "m3u8":
                return "DataEncryption.ContainerFormatNotSupported", "Encryption needs the m3u8 container."
            if enc.get("Type") != "hls-aes-128" or enc.get("KeyType") not in ("Base64", "KMS"):
                return "InvalidParameter", "Encryption Type must be hls-aes-128 and KeyType Base64 or KMS."
            # KMS mode sends the CiphertextBlob as KMS returned it (standard Base64) [to verify live].
            for name in ("KeyUri",) if enc["KeyType"] == "KMS" else ("Key", "KeyUri"):
                if not _B64URL.match(str(enc.get(name, ""))):
                    return (
                        "InvalidParameter.InvalidBase64Format",
                        f'The parameter "{name}" should be encoded by base64_urlsafe.',
                    )
            if enc["KeyType"] == "Base64" and len(_b64url_decode(enc["Key"])) != 16:
                return "InvalidParameter", "The decoded Key must be 16 bytes."
            if enc["KeyType"] == "KMS" and enc["Key"] not in self.kms_blobs:
                return "DataEncryption.CiphertextNotExist", "The ciphertext does not exist."
            if "SkipCnt" in enc and not str(enc["SkipCnt"]).isdigit():
                return "InvalidParameter.NumberFormatInvalid", 'The parameter "SkipCnt" must be a number.'
        marks = out.get("WaterMarks") or []
        if len(marks) > 20:
            return "InvalidParameter.ListSizeExceed", 'The size of "WaterMarks" exceeds 20.'
        for w in marks:
            for name in ("Dx", "Dy"):  # an integer in [8, 4096] or a ratio in (0, 1)
                value = str(w.get(name, "8"))
                if not (value.isdigit() and 8 <= int(value) <= 4096) and not re.fullmatch(r"0\.\d*[1-9]\d*", value):
                    return "InvalidParameter.OutOfRange", f'The parameter "{name}" is out of range.'
            if w.get("Type", "Image") == "Image":
                f = w.get("InputFile") or {}
                if not str(f.get("Object", "")).lower().endswith(".png"):
                    return "InvalidParameter.WaterMarkFileFormatNotSupported", "The watermark file must be PNG."
                continue
            text = w.get("TextWaterMark") or {}
            if not text.get("Content"):
                return "InvalidParameter.NullValue", 'The specified parameter "TextWaterMark.Content" cannot be null.'
            if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", str(text["Content"])):  # standard Base64
                return "InvalidParameter.InvalidBase64Format", 'The parameter "Content" should be Base64 encoded.'
            if not 4 <= int(text.get("FontSize", 16)) <= 120:
                return "InvalidParameter.OutOfRange", 'The parameter "FontSize" is out of range (4,120).'
            for name in ("Left", "Top"):
                if not 8 <= int(text.get(name, 8)) <= 4096:
                    return "InvalidParameter.OutOfRange", f'The parameter "{name}" is out of range [8,4096].'
        if len(str(out.get("UserData", "")).encode()) > 1024:
            return "InvalidParameter.OutOfRange", 'The parameter "UserData" exceeds 1024 bytes.'
        return None

    def query_job_list(self, p: dict) -> tuple[int, dict]:
        ids = [i for i in p.get("JobIds", "").split(",") if i]
        if not ids:
            return 400, {
                "Code": "InvalidParameter.NullValue",
                "Message": 'The specified parameter "JobIds" cannot be null.',
            }
        if len(ids) > 10:
            return 400, {"Code": "InvalidParameter.ListSizeExceed", "Message": 'The size of "JobIds" exceeds 10.'}
        found, missing = [], []
        for job_id in ids:
            job = self.jobs.get(job_id)
            if job is None:
                missing.append(job_id)
                continue
            if self.advance_on_query:
                self.advance(job)
            found.append(json.loads(json.dumps(job)))
        answer = {"JobList": {"Job": found}}
        if missing:
            answer["NonExistJobIds"] = {"String": missing}
        return 200, answer

    def cancel_job(self, p: dict) -> tuple[int, dict]:
        job = self.jobs.get(p.get("JobId", ""))
        if job is None:
            return 404, {
                "Code": "InvalidParameter.ResourceNotFound",
                "Message": 'The resource operated "JobId" cannot be found.',
            }
        refusal = {
            "Transcoding": ("PermissionDenied.JobInRunning", "The job is running."),
            "TranscodeSuccess": ("PermissionDenied.JobInComplete", "The job is complete."),
            "TranscodeFail": ("PermissionDenied.JobInFailure", "The job has failed."),
            "TranscodeCancelled": ("PermissionDenied.JobInComplete", "The job is cancelled."),
        }.get(job["State"])
        if refusal:
            return 403, {"Code": refusal[0], "Message": refusal[1]}
        job["State"] = "TranscodeCancelled"
        job["FinishTime"] = _now()
        return 200, {"JobId": job["JobId"]}

    # --- KMS actions ------------------------------------------------------------------

    def generate_data_key(self, p: dict) -> tuple[int, dict]:
        if p.get("KeyId") not in self.kms_keys:
            return 404, {"Code": "Forbidden.KeyNotFound", "Message": "The specified Key is not found."}
        if p.get("KeySpec") != "AES_128" or set(p) & {"NumberOfBytes", "EncryptionContext"}:
            return 400, {"Code": "InvalidParameter", "Message": "HLS data keys need KeySpec AES_128 only."}
        plain = secrets.token_bytes(16)
        blob = base64.b64encode(b"standin-edk:" + secrets.token_bytes(24)).decode()
        self.kms_blobs[blob] = plain
        return 200, {
            "KeyId": p["KeyId"],
            "KeyVersionId": "v1",
            "CiphertextBlob": blob,
            "Plaintext": base64.b64encode(plain).decode(),
        }

    def decrypt(self, p: dict) -> tuple[int, dict]:
        plain = self.kms_blobs.get(p.get("CiphertextBlob", ""))
        if plain is None:
            return 400, {"Code": "InvalidCiphertext", "Message": "The ciphertext is invalid."}
        return 200, {"KeyId": next(iter(self.kms_keys)), "Plaintext": base64.b64encode(plain).decode()}

    # --- the job life cycle -----------------------------------------------------------

    def advance(self, job: dict) -> None:
        with self.lock:
            if job["State"] == "Submitted":
                job["State"], job["Percent"], job["SubmitTime"] = "Transcoding", 40, _now()
            elif job["State"] == "Transcoding":
                failure = self.fail_rule(job) or self.transcode(job)
                job["FinishTime"] = _now()
                if failure:
                    job["State"], job["Code"], job["Message"] = "TranscodeFail", failure[0], failure[1]
                else:
                    job["State"], job["Percent"] = "TranscodeSuccess", 100
                if self.queue:
                    state = "Success" if job["State"] == "TranscodeSuccess" else "Fail"
                    msg = {
                        "jobId": job["JobId"],
                        "requestId": uuid.uuid4().hex,
                        "Type": "Transcode",
                        "state": state,
                        "type": "Transcode",
                        "State": state,
                        "JobId": job["JobId"],
                        "RequestId": uuid.uuid4().hex,
                    }
                    if failure:
                        msg.update(code=failure[0], msg=failure[1])
                    self.messages.append({"id": uuid.uuid4().hex.upper(), "body": json.dumps(msg)})

    def transcode(self, job: dict) -> tuple[str, str] | None:
        """Write the rendition for the job's template as MPS would; a failure tuple if impossible."""
        inp, out = job["Input"], job["Output"]
        if self.oss.get(inp["Bucket"], unquote(inp["Object"])) is None:
            return "InvalidParameter.ResourceNotFound", "The resource operated InputFile cannot be found."
        bucket, obj = out["OutputFile"]["Bucket"], unquote(out["OutputFile"]["Object"])
        if (out.get("Container") or {}).get("Format") == "mp4":
            return self.transcode_mp4(job, bucket, obj)
        segments = self.renditions[out["TemplateId"]]
        folder, name = posixpath.split(obj[:-5] if obj.endswith(".m3u8") else obj)
        enc = out.get("Encryption")
        key = uri = None
        skip = 0
        if enc:
            key = _b64url_decode(enc["Key"]) if enc["KeyType"] == "Base64" else self.kms_blobs[enc["Key"]]
            uri = _b64url_decode(enc["KeyUri"]).decode()
            skip = int(enc.get("SkipCnt", 0))
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{math.ceil(max(d for d, _ in segments))}",
            "#EXT-X-MEDIA-SEQUENCE:0",
        ]
        for i, (duration, data) in enumerate(segments):
            if key and i == 0 and skip:
                lines.append("#EXT-X-KEY:METHOD=NONE")
            if key and i == skip:
                lines.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{uri}"')
            if key and i >= skip:
                padder = padding.PKCS7(128).padder()
                enc_ = Cipher(algorithms.AES(key), modes.CBC(i.to_bytes(16, "big"))).encryptor()
                data = enc_.update(padder.update(data) + padder.finalize()) + enc_.finalize()
            seg = f"{name}-{i + 1:05d}.ts"
            self.oss.put(bucket, f"{folder}/{seg}", data, "video/mp2t")
            lines += [f"#EXTINF:{duration:.6f},", seg]
        lines.append("#EXT-X-ENDLIST")
        self.oss.put(bucket, f"{folder}/{name}.m3u8", ("\n".join(lines) + "\n").encode(), "application/x-mpegURL")
        return None

    def transcode_mp4(self, job: dict, bucket: str, obj: str) -> tuple[str, str] | None:
        """An MP4 output: the template's rendition as one progressive MP4 in the asked Video.Codec,
        written to the OutputObject as given, and MPS's Output.Properties (Duration, FileSize, …)."""
        out = job["Output"]
        twin = out["TemplateId"].replace("S00000001-2", "S00000001-1", 1)
        if self.mp4 is None or twin not in self.renditions:
            return "InvalidParameter.TemplateNotSupported", "The stand-in has no rendition for this template."
        codec = (out.get("Video") or {}).get("Codec", "H.264")
        data = self.mp4(twin, codec)
        self.oss.put(bucket, obj, data, "video/mp4")
        video = out.get("Video") or {}
        out["Properties"] = {
            "Width": str(video.get("Width", "")),
            "Height": str(video.get("Height", "")),
            "Duration": f"{sum(d for d, _ in self.renditions[twin]):.3f}",
            "FileFormat": "mp4",
            "FileSize": str(len(data)),
        }
        return None

    # --- MNS ------------------------------------------------------------------------------

    def check_mns(self, method: str, path_qs: str, headers) -> tuple[int, str] | None:
        auth = headers.get("Authorization", "")
        if not auth.startswith("MNS ") or headers.get("x-mns-version") != "2015-06-06":
            return 403, "AccessDenied"
        ak, _, sig = auth[4:].partition(":")
        secret = self.keys.get(ak)
        if secret is None:
            return 403, "InvalidAccessKeyId"
        try:
            if abs(time.time() - parsedate_to_datetime(headers.get("Date", "")).timestamp()) > 900:
                return 403, "TimeExpired"
        except (TypeError, ValueError):
            return 403, "InvalidArgument"
        mns = "".join(
            f"{k.lower()}:{v}\n"
            for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower())
            if k.lower().startswith("x-mns-")
        )
        to_sign = "\n".join(
            [
                method,
                headers.get("Content-MD5", ""),
                headers.get("Content-Type", ""),
                headers.get("Date", ""),
                mns + path_qs,
            ]
        )
        expected = base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, sig):
            return 403, "SignatureDoesNotMatch"
        return None

    def receive(self, count: int, wait: float) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + min(wait, 0.5)  # the stand-in keeps long polls short
        with self.lock:
            for job in list(self.jobs.values()):
                self.advance(job)
        while True:
            with self.lock:
                now = time.monotonic()
                for handle, (msg, visible_at) in list(self.inflight.items()):
                    if visible_at <= now:  # not deleted in time: visible again, like MNS
                        del self.inflight[handle]
                        self.messages.append(msg)
                batch = self.messages[:count]
                del self.messages[:count]
                out = []
                for msg in batch:
                    handle = secrets.token_hex(16)
                    self.inflight[handle] = (msg, now + self.visibility)
                    out.append((handle, msg))
            if out or time.monotonic() >= deadline:
                return out
            time.sleep(0.05)


def _child_text(el: ET.Element, name: str) -> str:
    found = el.find("{http://mns.aliyuncs.com/doc/v1/}" + name)
    found = el.find(name) if found is None else found
    return found.text or "" if found is not None else ""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _AliyunHandler(BaseHTTPRequestHandler):
    standin: AliyunStandIn
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, body: bytes, ctype: str):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _rpc(self, method: str):
        s = self.standin
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if body and "form-urlencoded" in self.headers.get("Content-Type", ""):
            params.update(parse_qsl(body, keep_blank_values=True))
        request_id = str(uuid.uuid4()).upper()
        with s.lock:
            problem = s.check_rpc(method, params)
            if problem:
                status, answer = problem[0], {"Code": problem[1], "Message": problem[2]}
            else:
                s.calls.append(dict(params))
                action = params["Action"]
                handler = {
                    "SubmitJobs": s.submit_jobs,
                    "QueryJobList": s.query_job_list,
                    "CancelJob": s.cancel_job,
                    "GenerateDataKey": s.generate_data_key,
                    "Decrypt": s.decrypt,
                }[action]
                status, answer = handler(params)
                lost = s.lose_answer.get(action, 0)
                if lost:  # done, but the answer never arrives (a read timeout, a dropped connection)
                    s.lose_answer[action] = lost - 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
        answer["RequestId"] = request_id
        self._reply(status, json.dumps(answer).encode(), "application/json;charset=utf-8")

    def _mns(self, method: str):
        s = self.standin
        parts = urlsplit(self.path)
        q = dict(parse_qsl(parts.query, keep_blank_values=True))
        problem = s.check_mns(method, self.path, self.headers)
        m = re.fullmatch(r"/queues/([^/]+)/messages", parts.path)
        if problem is None and (m is None or unquote(m.group(1)) != s.queue):
            problem = (404, "QueueNotExist")
        if problem:
            return self._reply(
                problem[0], _xml("Error", Code=problem[1], Message=problem[1], RequestId=uuid.uuid4().hex), "text/xml"
            )
        if method == "GET":
            got = s.receive(int(q.get("numOfMessages", 1)), float(q.get("waitseconds", 0)))
            if not got:
                return self._reply(
                    404,
                    _xml("Error", Code="MessageNotExist", Message="Message not exist.", RequestId=uuid.uuid4().hex),
                    "text/xml",
                )
            ns = "http://mns.aliyuncs.com/doc/v1/"
            root = ET.Element("Messages", xmlns=ns)
            for handle, msg in got:
                el = ET.SubElement(root, "Message")
                for tag, val in (
                    ("MessageId", msg["id"]),
                    ("ReceiptHandle", handle),
                    ("MessageBodyMD5", hashlib.md5(msg["body"].encode()).hexdigest().upper()),
                    ("MessageBody", msg["body"]),
                    ("DequeueCount", 1),
                    ("Priority", 8),
                ):
                    ET.SubElement(el, tag).text = str(val)
            return self._reply(200, ET.tostring(root), "text/xml")
        if method == "POST":  # SendMessage
            length = int(self.headers.get("Content-Length") or 0)
            text = _child_text(ET.fromstring(self.rfile.read(length)), "MessageBody")
            msg = {"id": uuid.uuid4().hex.upper(), "body": text}
            with s.lock:
                s.messages.append(msg)
            return self._reply(
                201,
                _xml("Message", MessageId=msg["id"], MessageBodyMD5=hashlib.md5(text.encode()).hexdigest().upper()),
                "text/xml",
            )
        if method == "DELETE":
            with s.lock:
                if s.inflight.pop(q.get("ReceiptHandle", ""), None) is None:
                    return self._reply(
                        404,
                        _xml(
                            "Error",
                            Code="ReceiptHandleError",
                            Message="The receipt handle is invalid.",
                            RequestId=uuid.uuid4().hex,
                        ),
                        "text/xml",
                    )
            return self._reply(204, b"", "text/xml")
        return self._reply(405, b"", "text/xml")

    def do_GET(self):
        self._mns("GET") if self.path.startswith("/queues/") else self._rpc("GET")

    def do_POST(self):
        self._mns("POST") if self.path.startswith("/queues/") else self._rpc("POST")

    def do_DELETE(self):
        self._mns("DELETE")

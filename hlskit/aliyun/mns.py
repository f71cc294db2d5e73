"""Receive MPS's job-completion messages from an MNS queue (the pipeline's NotifyConfig.QueueName).

MNS is a small signed XML-over-HTTP API (version 2015-06-06): BatchReceiveMessage long-polls,
DeleteMessage acknowledges with the receipt handle. MPS's message names the job in keys of either
case (``jobId``/``JobId``, ``state``/``State``) and carries no UserData, so the engine looks the job
up with QueryJobList after a message arrives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from ..domain.configs import MnsConfig
from ..domain.errors import ConfigError, HlskitError

if TYPE_CHECKING:
    import requests

MNS_VERSION = "2015-06-06"
_NS = "{http://mns.aliyuncs.com/doc/v1/}"


@dataclass(frozen=True)
class JobMessage:
    message_id: str
    receipt_handle: str
    body: dict  # keys lower-cased
    raw: str

    @property
    def job_id(self) -> str:
        return str(self.body.get("jobid", ""))

    @property
    def state(self) -> str:
        return str(self.body.get("state", ""))


def parse_job_message(text: str) -> dict:
    """MPS's message body as a dict with lower-cased keys; Base64-wrapped bodies are unwrapped."""
    for candidate in (text, _b64(text)):
        if candidate is None:
            continue
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return {str(k).lower(): v for k, v in data.items()}
    return {}


def _b64(text: str) -> str | None:
    try:
        return base64.b64decode(text.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def _child(el: ET.Element, name: str) -> str:
    found = el.find(_NS + name)
    if found is None:
        found = el.find(name)
    return (found.text or "") if found is not None else ""


class MnsQueue:
    def __init__(
        self,
        endpoint: str,
        queue: str,
        access_key_id: str,
        access_key_secret: str,
        session: requests.Session | None = None,
    ):
        self.endpoint = endpoint.rstrip("/") if "://" in endpoint else f"https://{endpoint.rstrip('/')}"
        self.queue = queue
        self._ak = access_key_id
        self._secret = access_key_secret
        self.session = session

    @classmethod
    def from_config(cls, config: MnsConfig, queue: str | None = None) -> MnsQueue:
        """The pipeline's queue (``mts_mns_queue``), or another queue of the same MNS endpoint."""
        ak, secret = config.aliyun.credentials()
        if not config.endpoint:
            raise ConfigError(
                "an MNS queue is used but mts_mns_endpoint is not set: set HLSKIT_MTS_MNS_ENDPOINT to "
                "https://<account-id>.mns.<region>.aliyuncs.com."
            )
        return cls(config.endpoint, queue or config.queue or "", ak, secret)

    def _request(self, method: str, resource: str, timeout: float, body: bytes = b"") -> requests.Response:
        import requests  # loaded on first use: it cost every hlskit command 30 ms at start

        if self.session is None:
            self.session = requests.Session()
        headers = {
            "Date": formatdate(usegmt=True),
            "Content-Type": "text/xml;charset=utf-8",
            "x-mns-version": MNS_VERSION,
        }
        mns_headers = "".join(
            f"{k.lower()}:{v}\n" for k, v in sorted(headers.items()) if k.lower().startswith("x-mns-")
        )
        to_sign = "\n".join([method, "", headers["Content-Type"], headers["Date"], mns_headers + resource])
        sig = base64.b64encode(hmac.new(self._secret.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
        headers["Authorization"] = f"MNS {self._ak}:{sig}"
        try:
            return self.session.request(
                method, self.endpoint + resource, headers=headers, data=body or None, timeout=timeout
            )
        except requests.RequestException as exc:
            raise HlskitError(
                f"cannot reach MNS at {urlsplit(self.endpoint).netloc} ({type(exc).__name__}): "
                "check mts_mns_endpoint and the network."
            ) from None

    def _check(self, resp: requests.Response, doing: str) -> None:
        if resp.status_code < 300:
            return
        code = ""
        try:
            code = _child(ET.fromstring(resp.content), "Code")
        except ET.ParseError:
            pass
        if resp.status_code in (401, 403) or code in {"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId"}:
            raise ConfigError(
                f"MNS refused {doing} on queue {self.queue} ({code or resp.status_code}): check the "
                "AccessKey and that its RAM user may receive and delete messages of this queue."
            )
        if code == "QueueNotExist":
            raise ConfigError(
                f"MNS queue {self.queue} does not exist: create it in the pipeline's region or fix mts_mns_queue."
            )
        raise HlskitError(f"MNS {doing} on queue {self.queue} failed ({code or resp.status_code}): retry later.")

    def receive(self, wait_seconds: int = 10, count: int = 16) -> list[JobMessage]:
        """Up to ``count`` messages, long-polling ``wait_seconds``; [] when the queue stays empty."""
        resource = f"/queues/{quote(self.queue)}/messages?numOfMessages={count}&waitseconds={wait_seconds}"
        resp = self._request("GET", resource, timeout=wait_seconds + 30)
        if resp.status_code == 404 and b"MessageNotExist" in resp.content:
            return []
        self._check(resp, "receiving")
        root = ET.fromstring(resp.content)
        items = [root] if root.tag.endswith("Message") and not root.tag.endswith("Messages") else list(root)
        out = []
        for el in items:
            raw = _child(el, "MessageBody")
            out.append(JobMessage(_child(el, "MessageId"), _child(el, "ReceiptHandle"), parse_job_message(raw), raw))
        return out

    def delete(self, receipt_handle: str) -> None:
        resource = f"/queues/{quote(self.queue)}/messages?ReceiptHandle={quote(receipt_handle, safe='')}"
        self._check(self._request("DELETE", resource, timeout=30), "deleting a message")

    def send(self, text: str) -> str:
        """SendMessage; returns the MessageId."""
        root = ET.Element("Message", xmlns=_NS.strip("{}"))
        ET.SubElement(root, "MessageBody").text = text
        body = b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root)
        resp = self._request("POST", f"/queues/{quote(self.queue)}/messages", timeout=30, body=body)
        self._check(resp, "sending a message")
        return _child(ET.fromstring(resp.content), "MessageId")

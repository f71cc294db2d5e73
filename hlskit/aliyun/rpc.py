"""One signed-RPC client for Alibaba Cloud products (MPS, KMS) on aliyun-python-sdk-core."""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

from ..domain.configs import AliyunConfig
from ..domain.errors import ConfigError, HlskitError, InputError, JobError

if TYPE_CHECKING:
    from aliyunsdkcore.request import AcsRequest

_AUTH_CODES = (
    "InvalidAccessKeyId",
    "InvalidAccessKeySecret",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "Forbidden",
    "PermissionDenied",
    "InvalidIdentity",
    "InvalidSecurityToken",
    "NoPermission",
)


def b64url(data: bytes | str) -> str:
    """URL-safe Base64 without padding, as MPS's Encryption fields want it."""
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- RPC calls with clear errors and throttling backoff -------------------------------------


class AliyunRpc:
    """An AcsClient for one product endpoint; ``call`` returns the parsed JSON answer.

    ``Throttling*`` answers are retried with exponential backoff; every other refusal becomes
    one HlskitError sentence. The SDK's own retry is off so the backoff is ours and visible.
    """

    def __init__(self, aliyun: AliyunConfig, endpoint: str, product: str, *, retries: int = 6, backoff: float = 0.5):
        # the SDK (with its vendored requests) loads here: it cost every hlskit command 60 ms at start
        from aliyunsdkcore.client import AcsClient

        ak, secret = aliyun.credentials()
        self.client = AcsClient(ak, secret, aliyun.region, auto_retry=False, timeout=30)
        self.endpoint = endpoint
        self.product = product
        self.retries = retries
        self.backoff = backoff

    def call(self, request: AcsRequest) -> dict[str, Any]:
        request.set_endpoint(self.endpoint)
        request.set_protocol_type("https")  # an endpoint given as http://… (a stand-in) keeps its scheme
        request.set_accept_format("JSON")
        action = request.get_action_name()
        from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

        for attempt in range(self.retries + 1):
            try:
                return json.loads(self.client.do_action_with_exception(request))
            except ServerException as exc:
                code = exc.get_error_code() or ""
                if code.startswith("Throttling") and attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise self._error(action, code, exc.get_error_msg() or "") from None
            except ClientException as exc:
                if exc.get_error_code() == "SDK.HttpError" and attempt < 2:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise HlskitError(
                    f"cannot reach {self.product} at {self.endpoint} ({exc.get_error_code()}): "
                    "check the network, the region and the endpoint setting."
                ) from None
        raise AssertionError("unreachable")

    def _error(self, action: str, code: str, message: str) -> HlskitError:
        where = f"{self.product} {action}"
        if code.startswith("Throttling"):
            return JobError(
                f"{where} is still throttled after {self.retries} retries ({code}): "
                "submit fewer jobs at once or try again in a minute.",
                code=code,
            )
        if code.startswith("PermissionDenied.JobIn"):  # CancelJob on a running or ended job
            return JobError(
                f"MPS cannot cancel this job ({code}: {message}): MPS cancels only jobs still "
                "Submitted; pause the pipeline to keep queued jobs from starting.",
                code=code,
            )
        if code.endswith("KeyNotFound"):
            return ConfigError(
                f"{where} found no such KMS key ({code}): set mts_kms_key_id to a key id or alias "
                "in region mts_region.",
                code=code,
            )
        if code.startswith(_AUTH_CODES):
            # The server's message may quote the string it signed; it never holds the secret,
            # but it helps nobody here, so only the code is shown.
            return ConfigError(
                f"{where} refused the credentials ({code}): check the AccessKey id and "
                "secret, and that the RAM user has the permissions listed in docs/alibaba-cloud.md.",
                code=code,
            )
        if code.endswith("ResourceNotFound") and "pipeline" in message.lower():
            return ConfigError(
                f"MPS pipeline not found in this region ({code}): set mts_pipeline_id to a "
                "pipeline id from the MPS console of region mts_region.",
                code=code,
            )
        if code.startswith(("InvalidParameter", "Parameters", "DataEncryption", "MissingParameter")):
            return InputError(
                f"{where} rejected a parameter ({code}: {message}): fix that option and submit again.", code=code
            )
        return JobError(f"{where} failed ({code}: {message}): retry later or check the MPS console.", code=code)

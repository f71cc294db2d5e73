"""One signed-RPC client for Alibaba Cloud products (MPS, KMS) on aliyun-python-sdk-core."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from ..domain.configs import AliyunConfig
from ..domain.errors import ConfigError, HlskitError, InputError, JobError

if TYPE_CHECKING:
    from aliyunsdkcore.request import AcsRequest

# The SDK logs every refused call at ERROR (with the signed URL) and, at DEBUG, request parameters
# and answers: MPS's Outputs with their Base64 data keys, KMS's Plaintext. Our errors say what went
# wrong in one sentence; its records stay out of every hlskit process's logs, whatever imports it.
_sdk_log = logging.getLogger("aliyunsdkcore")
_sdk_log.addHandler(logging.NullHandler())
_sdk_log.propagate = False
_sdk_log.setLevel(logging.CRITICAL + 1)

# Account or service states, not bad credentials (MPS SubmitJobs' error codes)
_STATE_CODES = (
    "PermissionDenied.ResourceAccess",
    "PermissionDenied.ResourceQuotaExceed",
    "InvalidIdentity.ServiceDisabled",
)
# Answers of a moment: an idempotent call (a query, a cancel, KMS Decrypt) is asked again
_TRANSIENT_CODES = ("InternalError", "ServiceUnavailable", "Throttling")

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

    ``Throttling*`` answers are retried with exponential backoff, and so are a server's passing
    errors and a lost answer for an ``idempotent`` call; every other refusal becomes one
    HlskitError sentence. The SDK's own retry is off so the backoff is ours and visible.
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

    def call(self, request: AcsRequest, *, idempotent: bool = True) -> dict[str, Any]:
        """The answer to ``request``. ``idempotent=False`` (SubmitJobs, which takes no client token):
        a request whose answer was lost is not sent again, since MPS may have made its jobs."""
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
                passing = code.startswith("Throttling") or (idempotent and code.startswith(_TRANSIENT_CODES))
                if passing and attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                raise self._error(action, code, exc.get_error_msg() or "") from None
            except ClientException as exc:
                if exc.get_error_code() == "SDK.HttpError" and not idempotent:
                    raise JobError(
                        f"the answer to {self.product} {action} was lost ({exc.get_error_code()}), and "
                        f"{self.product} may have made the jobs: look in its console before submitting again.",
                        code="SDK.HttpError",
                    ) from None
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
        if code.startswith(_STATE_CODES):
            return ConfigError(
                f"{where} was refused ({code}: {message}): authorise MPS on the bucket, raise the quota or "
                "enable the service in the console, as docs/alibaba-cloud.md lists.",
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

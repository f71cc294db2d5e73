"""The AccessKey pair, from settings only (config file or environment, never flags)."""

from __future__ import annotations

from ..domain.errors import ConfigError


def credentials(settings) -> tuple[str, str]:
    ak, secret = settings.mts_access_key_id, settings.mts_access_key_secret
    if not ak or not secret:
        raise ConfigError(
            "Alibaba Cloud credentials are missing: set HLSKIT_MTS_ACCESS_KEY_ID and "
            "HLSKIT_MTS_ACCESS_KEY_SECRET (or access_key_id/access_key_secret under [mts] in the config file)."
        )
    return ak, secret

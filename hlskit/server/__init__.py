"""The hlskit server: key service, media and player, built by an app factory.

    hlskit serve out/ --port 8000                         # laptop (Werkzeug's server)
    gunicorn -w 2 -b 127.0.0.1:8000 'hlskit.server:create_app()'   # production

``create_app`` is the server's entry point: it takes Settings, or loads them with
``hlskit.config.load_settings()`` (config file and HLSKIT_* environment) when given none, and
hands each blueprint what it needs; no other module of the server loads settings. The app also
keeps them in ``app.config["HLSKIT_SETTINGS"]``.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..config import load_settings
from ..domain.errors import ConfigError, HlskitError
from ..domain.settings import Settings
from ..keys.tokens import token_secret
from ..stores.db import StoreUnavailable
from ..stores.keys import KeyStore
from . import audit, index, keys, media, player, startup
from .cors import CorsPolicy
from .keycache import KeyCache
from .responses import json_error

_API_PREFIXES = ("/keys/", "/media/", "/healthz")


def check_production(settings: Settings) -> None:
    """Refuse to serve in production with a secret that was never provisioned."""
    master_key_file = settings.store_config().master_key_file
    if settings.production and not master_key_file.exists():
        raise ConfigError(
            f"master key file {master_key_file} is missing: restore it (a new one could not unwrap any existing key) or set master_key_file."
        )


def create_app(settings: Settings | None = None) -> Flask:
    """The app for ``settings`` (default: the config file and HLSKIT_* variables). A problem the
    operator must fix raises :class:`hlskit.server.startup.StartupError`: one sentence, wherever the app is started."""
    try:
        return _build(settings if settings is not None else load_settings())
    except HlskitError as exc:
        startup.fail(exc.message, exc.code)


def _build(settings: Settings) -> Flask:
    secret = token_secret(settings.token_config())  # refuses missing/weak secrets in production
    check_production(settings)
    try:
        cors = CorsPolicy(settings.allowed_origins, settings.public_origin)
    except ValueError as exc:
        raise ConfigError(
            f"{exc}: set it to scheme://host[:port] such as https://video.example.com in the config file or HLSKIT_PUBLIC_ORIGIN."
        ) from None
    store = KeyStore.open(settings.store_config())
    audit.setup()

    app = Flask(__name__)
    app.config["HLSKIT_SETTINGS"] = settings
    # No 308 redirect for "//" (Apple: no redirects on media requests); resolve() refuses them.
    app.url_map.merge_slashes = False
    app.register_blueprint(keys.create_blueprint(secret, KeyCache(store), cors))
    app.register_blueprint(media.create_blueprint(settings.media_root, cors, secret, store))
    # The test page mints tokens for itself, except in production mode.
    app.register_blueprint(
        player.create_blueprint(None if settings.production else secret, settings.token_ttl, settings.media_root)
    )
    app.register_blueprint(index.create_blueprint(settings.media_root, listing=not settings.production))

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            store.ping()  # SQLite file or PostgreSQL, whichever store_url names
        except StoreUnavailable:
            return json_error(503, "Health.KeyStore", "key store unavailable.")
        response = jsonify(status="ok", media_root=settings.media_root.is_dir())
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def no_sniffing(response: Response) -> Response:
        # Every answer says what it is and browsers must not guess otherwise: a text/plain error
        # that echoes the request (e.g. /play?src=data:text/html,...) is never run as HTML.
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException:
        # Machine clients (players, FFmpeg) get short JSON; other routes keep Flask's pages.
        if request.path.startswith(_API_PREFIXES):
            response = json_error(exc.code or 500, exc.name.replace(" ", ""), exc.description or exc.name)
            # the exception's own headers: 405's Allow (RFC 9110 §15.5.6), 416's Content-Range (§15.5.17)
            for name, value in exc.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response
        return exc

    return app

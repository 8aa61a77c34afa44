"""The portal's application factory: configuration, extensions and blueprints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from limits.errors import ConfigurationError as LimitsConfigurationError
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.core import abuse_limits
from portal.web import (
    auth,
    errors,
    gateway,
    notices,
    pages,
    public_url,
    security,
    task_queue,
)
from portal.web.compte import views as compte
from portal.web.espace import views as espace
from portal.web.imports import jobs as import_jobs
from portal.web.imports import views as imports
from portal.web.main import views as main
from portal.web.suivi import views as suivi
from portal.web.support import views as support

ENV_PREFIX = "COLLECTE"

#: Configuration keys that have no default: the portal refuses to start without them.
REQUIRED_SECRETS = ("SECRET_KEY", "OIDC_CLIENT_SECRET", "ADMIN_CLIENT_SECRET")
#: Read verbatim too when given (a password made of digits stays a string).
OPTIONAL_SECRETS = ("SMTP_USER", "SMTP_PASSWORD")


class ConfigurationError(RuntimeError):
    """The configuration is incomplete or invalid; the application cannot start."""


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the portal application.

    Configuration is read, each layer overriding the previous one, from
    :mod:`portal.defaults`, from ``COLLECTE_*`` environment variables
    (``COLLECTE_SECRET_KEY`` -> ``SECRET_KEY``; values are parsed as JSON when
    they can be, so ``false`` or ``10`` work) and from ``config`` (tests).
    """
    app = Flask(__name__)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.config.from_object("portal.defaults")
    app.config.from_prefixed_env(ENV_PREFIX)
    _read_secrets_verbatim(app)
    if config is not None:
        app.config.from_mapping(config)
    check_config(app.config)
    public_url.init_app(app)
    if proxies := int(app.config["FORWARDED_FOR_PROXIES"]):
        # The client's address as the proxies in front saw it (abuse limits per client).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
    app.extensions[abuse_limits.EXTENSION_KEY] = _abuse_limits(app.config)

    CSRFProtect(app)
    auth.init_app(app)
    gateway.init_app(app)
    task_queue.init_app(app)
    import_jobs.init_app(app)
    main.init_app(app)
    notices.init_app(app)
    task_queue.start_in_process(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(espace.bp)
    app.register_blueprint(compte.bp)
    app.register_blueprint(support.bp)
    app.register_blueprint(suivi.bp)
    app.register_blueprint(imports.bp)
    pages.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    return app


def _abuse_limits(config: Mapping[str, Any]) -> abuse_limits.AbuseLimits:
    """The abuse limits' counters, in their own store (a fresh one per ``memory://`` app)."""
    try:
        return abuse_limits.AbuseLimits.from_config(config)
    except (ValueError, LimitsConfigurationError) as error:
        raise ConfigurationError(
            f"Abuse limits (COLLECTE_RATE_LIMIT_*) cannot be used: {error}"
        ) from error


def _read_secrets_verbatim(app: Flask) -> None:
    """Take secrets from the environment as plain strings.

    ``from_prefixed_env`` JSON-decodes values, which would turn a secret made
    only of digits into an ``int``; secrets must stay exactly as given.
    """
    for key in (*REQUIRED_SECRETS, *OPTIONAL_SECRETS):
        raw = os.environ.get(f"{ENV_PREFIX}_{key}")
        if raw is not None:
            app.config[key] = raw


def check_config(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigurationError` if a secret is missing or a value is unusable."""
    missing = [key for key in REQUIRED_SECRETS if not config.get(key)]
    if missing:
        variables = ", ".join(f"{ENV_PREFIX}_{key}" for key in missing)
        raise ConfigurationError(
            f"Missing secret configuration: {', '.join(missing)}. "
            f"Set the environment variables {variables} (there are no default secrets)."
        )
    for key in REQUIRED_SECRETS:
        if not isinstance(config[key], str):
            raise ConfigurationError(f"{key} must be a string.")
    timeout = config.get("KEYCLOAK_TIMEOUT")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise ConfigurationError("KEYCLOAK_TIMEOUT must be a positive whole number of seconds.")
    url_problem = public_url.problem(config.get("PORTAL_URL"))
    if url_problem:
        raise ConfigurationError(url_problem)
    for key in ("KEYCLOAK_URL", "KEYCLOAK_REALM", "OIDC_CLIENT_ID", "ADMIN_CLIENT_ID"):
        if not isinstance(config.get(key), str) or not config[key]:
            raise ConfigurationError(f"{key} must be a non-empty string.")

"""The application factory: defaults, then environment, then the caller's overrides."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from trace.config import Config
from web.csrf import init_csrf
from web.database import init_database
from web.errors import register_error_handlers
from web.i18n import init_i18n
from web.ratelimit import init_rate_limits
from web.scan import init_scans
from web.scan_fast import init_fast_scan_pages
from web.security import add_security_headers
from web.sessions import NoSessionInterface
from web.static import init_static_versions
from web.templating import TraceEnvironment
from web.turns import init_turns


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the service. `config` may be a whole Config or a dict of overrides."""
    if not isinstance(config, Config):
        config = Config.from_env().with_overrides(**(config or {}))
    app = Flask(__name__, instance_path=str(config.instance_path))
    app.jinja_environment = TraceEnvironment
    app.session_interface = NoSessionInterface()
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        JSON_SORT_KEYS=False,
        TRACE=config,
    )
    app.json.sort_keys = False
    init_database(app, config)
    init_turns(app, app.extensions["trace"].engine)
    register_error_handlers(app)
    app.after_request(add_security_headers)
    init_static_versions(app)
    init_i18n(app)
    init_csrf(app)
    _register_blueprints(app)
    init_scans(app, config)
    init_rate_limits(app, config)  # wraps views: after the blueprints are registered
    if config.fast_scan_pages:
        init_fast_scan_pages(app)
    if config.proxy_hops:  # outermost: what it fixes (address, scheme) is for all within
        hops = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from api import bp as api_bp
    from web.complaints import bp as complaints_bp
    from web.pages import bp as pages_bp
    from web.resolver import bp as resolver_bp
    from web.scan import bp as scan_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(resolver_bp)
    app.register_blueprint(scan_bp)
    app.register_blueprint(complaints_bp)


def _register_cli(app: Flask) -> None:
    from web.cli import register_commands

    register_commands(app)

"""The app factory: configuration from the environment, and security headers on every answer."""

import stat

import pytest

from trace.config import Config
from web.app import create_app

PAGES = ["/", "/api/v1/docs", "/api/v1/openapi.json", "/nothing-here", "/api/v1/nothing-here"]


# --- security headers ----------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]


def test_security_headers_on_api_errors(api):
    headers = api("viewer").post("/api/v1/products").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/api/v1/openapi.json"])
def test_no_hsts_over_plain_http(client, path):
    assert "Strict-Transport-Security" not in client.get(path).headers


@pytest.mark.parametrize("path", ["/", "/api/v1/openapi.json", "/nothing-here"])
def test_hsts_over_https(client, path):
    hsts = client.get(path, base_url="https://localhost").headers["Strict-Transport-Security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 180 * 24 * 3600


def test_the_start_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/api/v1/docs" in response.get_data(as_text=True)


# --- configuration -----------------------------------------------------------------------------


def test_defaults_when_nothing_is_set(tmp_path):
    config = Config.from_env({"TRACE_INSTANCE_PATH": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path / 'trace.db'}"
    assert config.public_base_url == "http://127.0.0.1:5000"
    assert config.ratelimit_storage == "memory://"
    assert config.instance_path == tmp_path
    assert len(config.secret_key) >= 32


def test_environment_variables_override_the_defaults(tmp_path):
    config = Config.from_env(
        {
            "TRACE_INSTANCE_PATH": str(tmp_path),
            "TRACE_DATABASE_URL": "postgresql+psycopg://trace@db/trace",
            "TRACE_PUBLIC_BASE_URL": "https://trace.example.com/",
            "TRACE_SECRET_KEY": "from-the-environment",
            "TRACE_RATELIMIT_STORAGE": "redis://cache:6379/0",
        }
    )
    assert config.database_url == "postgresql+psycopg://trace@db/trace"
    assert config.public_base_url == "https://trace.example.com"  # no trailing slash in QR URLs
    assert config.secret_key == "from-the-environment"
    assert config.ratelimit_storage == "redis://cache:6379/0"
    assert not (tmp_path / "secret_key").exists()


def test_an_empty_database_url_means_the_default(tmp_path):
    config = Config.from_env({"TRACE_INSTANCE_PATH": str(tmp_path), "TRACE_DATABASE_URL": ""})
    assert config.database_url.startswith("sqlite:///")


def test_the_secret_key_is_generated_into_the_instance_folder_once(tmp_path):
    instance = tmp_path / "instance"
    first = Config.from_env({"TRACE_INSTANCE_PATH": str(instance)})
    stored = instance / "secret_key"
    assert stored.read_text().strip() == first.secret_key
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    again = Config.from_env({"TRACE_INSTANCE_PATH": str(instance)})
    assert again.secret_key == first.secret_key


def test_each_instance_gets_its_own_secret_key(tmp_path):
    one = Config.from_env({"TRACE_INSTANCE_PATH": str(tmp_path / "one")})
    two = Config.from_env({"TRACE_INSTANCE_PATH": str(tmp_path / "two")})
    assert one.secret_key != two.secret_key


def test_with_overrides_changes_only_what_is_named(config):
    changed = config.with_overrides(max_body_bytes=1000)
    assert changed.max_body_bytes == 1000
    assert changed.database_url == config.database_url
    assert config.max_body_bytes != 1000


def test_create_app_uses_the_config_it_is_given(config):
    app = create_app(config.with_overrides(max_body_bytes=4096, secret_key="given"))
    try:
        assert app.config["MAX_CONTENT_LENGTH"] == 4096
        assert app.config["SECRET_KEY"] == "given"
        assert app.extensions["trace"].config.public_base_url == config.public_base_url
        assert app.instance_path == str(config.instance_path)
    finally:
        app.extensions["trace"].engine.dispose()


def test_create_app_reads_the_environment_then_applies_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRACE_PUBLIC_BASE_URL", "https://env.example.com")
    monkeypatch.setenv("TRACE_SECRET_KEY", "env-secret")
    monkeypatch.setenv("TRACE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    app = create_app({"public_base_url": "https://override.example.com"})
    try:
        config = app.extensions["trace"].config
        assert config.public_base_url == "https://override.example.com"
        assert config.secret_key == "env-secret"
        assert config.database_url == f"sqlite:///{tmp_path / 'env.db'}"
    finally:
        app.extensions["trace"].engine.dispose()


def test_two_apps_do_not_share_state(config):
    one, two = create_app(config), create_app(config)
    try:
        assert one.extensions["trace"] is not two.extensions["trace"]
        assert one.extensions["trace"].engine is not two.extensions["trace"].engine
    finally:
        one.extensions["trace"].engine.dispose()
        two.extensions["trace"].engine.dispose()


def test_scan_page_settings_have_defaults(tmp_path):
    config = Config.from_env({"TRACE_INSTANCE_PATH": str(tmp_path)})
    assert config.ratelimit_scans and config.ratelimit_complaints
    assert config.suspicious_window_hours > 0
    assert config.suspicious_max_scans > config.suspicious_max_clients > 1
    assert config.display_timezone == "Asia/Shanghai"
    assert config.complaint_photo_max_bytes == 5 * 1024 * 1024


def test_scan_page_settings_from_the_environment(tmp_path):
    config = Config.from_env(
        {
            "TRACE_INSTANCE_PATH": str(tmp_path),
            "TRACE_RATELIMIT_SCANS": "1000 per second",
            "TRACE_RATELIMIT_COMPLAINTS": "",
            "TRACE_SUSPICIOUS_WINDOW_HOURS": "24",
            "TRACE_SUSPICIOUS_MAX_SCANS": "100",
            "TRACE_SUSPICIOUS_MAX_CLIENTS": "10",
            "TRACE_DISPLAY_TIMEZONE": "Europe/Berlin",
            "TRACE_COMPLAINT_PHOTO_MAX_BYTES": "1048576",
        }
    )
    assert (config.ratelimit_scans, config.ratelimit_complaints) == ("1000 per second", "")
    assert (config.suspicious_window_hours, config.suspicious_max_scans) == (24, 100)
    assert config.suspicious_max_clients == 10
    assert config.display_timezone == "Europe/Berlin"
    assert config.complaint_photo_max_bytes == 1024 * 1024


def test_urls_built_once_are_kept_for_a_bounded_number_of_mount_points(app):
    from web.static import fixed_url
    from web.templating import MAX_KEPT as MAX_FIXED_URLS

    for number in range(MAX_FIXED_URLS + 10):
        with app.test_request_context("/", base_url=f"http://localhost/m{number}"):
            assert fixed_url("pages.index") == f"/m{number}/"
    assert len(app.extensions["trace_fixed_urls"]) <= MAX_FIXED_URLS

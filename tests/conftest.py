"""Test plugins live in tests/fixtures/*.py, one file per kind of fixture."""

pytest_plugins = [
    "tests.fixtures.registry_server",
    "tests.fixtures.fake_registry",
    "tests.fixtures.portal",
    "tests.fixtures.applications",
    "tests.fixtures.browser",
    "tests.fixtures.session_clock",
    "tests.fixtures.postgres",
    "tests.fixtures.oidc_provider",
    "tests.fixtures.redis_server",
    "tests.fixtures.clamd",
]

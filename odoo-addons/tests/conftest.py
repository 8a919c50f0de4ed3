"""pytest setup for odoo-addons/tests.

* puts odoo_stub/ (a TEST STUB of the ``odoo`` package, not Odoo) and odoo-addons/ on sys.path,
  so ``import odoo_companion`` works without a real Odoo;
* reads the real middleware's URL and keys from COMPANION_URL / COMPANION_API_KEY /
  COMPANION_READONLY_KEY. They are required: a missing variable FAILS the tests that need
  it (never a skip), so CI cannot go green without having talked to the middleware.
"""

import os
import pathlib
import socket
import sys

import pytest

ADDONS_DIR = pathlib.Path(__file__).resolve().parents[1]
STUB_DIR = ADDONS_DIR / "odoo_stub"
for path in (str(ADDONS_DIR), str(STUB_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

import odoo  # noqa: E402

assert getattr(odoo, "IS_TEST_STUB", False), "a real odoo package shadows odoo_stub: %s" % odoo.__file__

import odoo_companion  # noqa: E402,F401  (registers the addon's models in the stub registry)

HOW_TO_RUN = "run these tests through `npx vitest run tests/odoo-addons.test.ts`, which starts the middleware"


def _required_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail("%s is not set: %s" % (name, HOW_TO_RUN), pytrace=False)
    return value


@pytest.fixture(scope="session")
def companion_url():
    return _required_env("COMPANION_URL")


@pytest.fixture(scope="session")
def companion_api_key():
    return _required_env("COMPANION_API_KEY")


@pytest.fixture(scope="session")
def companion_readonly_key():
    return _required_env("COMPANION_READONLY_KEY")


@pytest.fixture
def env():
    """A fresh, empty in-memory database of the odoo stub."""
    from odoo.api import Environment

    return Environment(context={})


@pytest.fixture
def configured_env(env, companion_url, companion_api_key):
    params = env["ir.config_parameter"]
    params.set_param("odoo_companion.url", companion_url)
    params.set_param("odoo_companion.api_key", companion_api_key)
    params.set_param("odoo_companion.timeout", "20")
    return env


@pytest.fixture
def dead_url():
    """A middleware URL nothing listens on (connection refused at once)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return "http://127.0.0.1:%d" % port

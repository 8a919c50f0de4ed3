"""JSON-RPC 2.0 client for the odoo-companion middleware (``POST <url>/jsonrpc``).

``CompanionClient`` and its exceptions are plain Python (``requests`` only, nothing from
Odoo), so they can be unit-tested and reused outside Odoo. The ``companion.client``
AbstractModel at the bottom builds a client from the system parameters and turns the
client's exceptions into ``UserError`` for buttons.
"""

import itertools
import logging
import threading

import requests

from odoo import _, api, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5, 30)  # (connect, read) seconds

# JSON-RPC error codes the middleware answers with (schema/openrpc.json, components.errors)
INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
UNAUTHENTICATED = -32001
FORBIDDEN = -32003
NOT_FOUND = -32004
CONFLICT = -32009
RATE_LIMITED = -32029
UNAVAILABLE = -32050


class CompanionError(Exception):
    """The middleware answered with a JSON-RPC error object (or with something unusable).

    ``code`` / ``message`` / ``data`` are the error object's members; ``field_problems`` is
    ``data.problems`` (``[{"field": ..., "message": ...}]``) for -32602, else ``[]``.
    """

    def __init__(self, code, message, data=None):
        self.code = code
        self.message = message or ""
        self.data = data
        problems = data.get("problems") if isinstance(data, dict) else None
        self.field_problems = list(problems) if isinstance(problems, list) else []
        super().__init__(self.__str__())

    def __str__(self):
        text = "%s (%s)" % (self.message, self.code) if self.code is not None else self.message
        if self.field_problems:
            text += ": " + "; ".join(
                "%s: %s" % (p.get("field") or "params", p.get("message")) for p in self.field_problems
            )
        return text

    @classmethod
    def from_error_object(cls, error):
        if not isinstance(error, dict):
            return cls(None, "Malformed JSON-RPC error: %r" % (error,))
        code = error.get("code")
        klass = CompanionAuthError if code == UNAUTHENTICATED else cls
        return klass(code, error.get("message"), error.get("data"))


class CompanionAuthError(CompanionError):
    """HTTP 401 / -32001: the API key is missing, unknown or revoked."""


class CompanionUnavailable(CompanionError):
    """The middleware could not be reached in time (connection refused, DNS, TLS, timeout, 502-504)."""

    def __init__(self, message, cause=None):
        self.cause = cause
        super().__init__(None, message, None)


class CompanionClient:
    """Talks JSON-RPC 2.0 to the middleware over one keep-alive ``requests.Session``.

    ``url`` is the middleware's base URL (``https://host``) or the full ``…/jsonrpc``
    endpoint. ``timeout`` is ``(connect, read)`` seconds or one number for both.
    The API key only ever goes into the Authorization header: it is not logged, not part
    of ``repr()`` and not part of any exception message.
    """

    def __init__(self, url, api_key, timeout=DEFAULT_TIMEOUT, session=None):
        if not url:
            raise ValueError("The middleware URL is required")
        if not api_key:
            raise ValueError("The middleware API key is required")
        base = url.strip().rstrip("/")
        self.endpoint = base if base.endswith("/jsonrpc") else base + "/jsonrpc"
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Authorization": "Bearer %s" % api_key,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "odoo_companion/17.0",
            }
        )

    def __repr__(self):
        return "<CompanionClient %s>" % self.endpoint

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- public API ----------------------------------------------------------------------
    def call(self, method, params=None):
        """Calls one method and returns its ``result``; raises CompanionError & co."""
        request = self._request(method, params)
        body = self._post(request, label=method)
        if isinstance(body, list) or not isinstance(body, dict):
            raise CompanionError(None, "Unexpected JSON-RPC response to %s: %r" % (method, body)[:300])
        if body.get("error") is not None:
            raise CompanionError.from_error_object(body["error"])
        if "result" not in body:
            raise CompanionError(None, "JSON-RPC response to %s has neither result nor error" % method)
        return body["result"]

    def batch(self, calls, raise_on_error=False):
        """Sends ``[(method, params), ...]`` as one JSON-RPC batch (one HTTP request).

        Returns the results in the order of ``calls``. A call that failed is represented by
        its ``CompanionError`` instance (not raised) unless ``raise_on_error`` is true, in
        which case the first failure is raised. Whole-request failures (401, network,
        timeout) always raise.
        """
        calls = list(calls)
        if not calls:
            return []
        requests_ = [self._request(method, params) for method, params in calls]
        label = "batch[%d]" % len(requests_)
        body = self._post(requests_, label=label)
        if isinstance(body, dict) and body.get("error") is not None:
            # the whole batch was refused (too large, unauthenticated, ...)
            raise CompanionError.from_error_object(body["error"])
        if not isinstance(body, list):
            raise CompanionError(None, "Unexpected JSON-RPC batch response: %r" % (body,))
        by_id = {item.get("id"): item for item in body if isinstance(item, dict)}
        results = []
        for request in requests_:
            item = by_id.get(request["id"])
            if item is None:
                outcome = CompanionError(None, "No answer for %s in the batch response" % request["method"])
            elif item.get("error") is not None:
                outcome = CompanionError.from_error_object(item["error"])
            else:
                outcome = item.get("result")
            if raise_on_error and isinstance(outcome, CompanionError):
                raise outcome
            results.append(outcome)
        return results

    # -- internals -----------------------------------------------------------------------
    def _request(self, method, params):
        with self._lock:
            request_id = next(self._ids)
        request = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            request["params"] = params
        return request

    def _post(self, payload, label):
        _logger.debug("companion JSON-RPC %s -> %s", label, self.endpoint)
        try:
            response = self.session.post(self.endpoint, json=payload, timeout=self.timeout)
        except requests.exceptions.Timeout as exc:
            _logger.warning("companion JSON-RPC %s: timeout after %s s (%s)", label, self.timeout, self.endpoint)
            raise CompanionUnavailable(
                "The middleware at %s did not answer within %s seconds" % (self.endpoint, self.timeout), exc
            ) from None
        except requests.exceptions.RequestException as exc:
            _logger.warning("companion JSON-RPC %s: %s (%s)", label, type(exc).__name__, self.endpoint)
            raise CompanionUnavailable(
                "Cannot reach the middleware at %s (%s)" % (self.endpoint, type(exc).__name__), exc
            ) from None

        status = response.status_code
        if status == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if status == 401:
            error = body.get("error") if isinstance(body, dict) else None
            error = error if isinstance(error, dict) else {}
            _logger.warning("companion JSON-RPC %s: API key refused (HTTP 401)", label)
            raise CompanionAuthError(
                error.get("code", UNAUTHENTICATED), error.get("message") or "API key refused", error.get("data")
            )
        if body is None:
            # not JSON: a proxy page, a wrong URL, the middleware being restarted, ...
            if status in (502, 503, 504):
                raise CompanionUnavailable("The middleware at %s is unavailable (HTTP %s)" % (self.endpoint, status))
            raise CompanionError(
                None, "Unexpected HTTP %s from %s (not a JSON-RPC response)" % (status, self.endpoint), {"status": status}
            )
        # JSON-RPC errors also arrive with 403 / 413 / 5xx statuses; the body says what happened
        _logger.debug("companion JSON-RPC %s <- HTTP %s", label, status)
        return body


class CompanionClientModel(models.AbstractModel):
    _name = "companion.client"
    _description = "odoo-companion middleware client"

    PARAM_URL = "odoo_companion.url"
    PARAM_API_KEY = "odoo_companion.api_key"
    PARAM_TIMEOUT = "odoo_companion.timeout"

    @api.model
    def _companion_settings(self):
        params = self.env["ir.config_parameter"].sudo()
        return {
            "url": params.get_param(self.PARAM_URL) or "",
            "api_key": params.get_param(self.PARAM_API_KEY) or "",
            "timeout": params.get_param(self.PARAM_TIMEOUT) or "",
        }

    @api.model
    def _companion_timeout(self, value):
        """Read timeout from the setting (seconds, default 30); connect timeout at most 5 s."""
        try:
            read = float(value) if value not in (None, False, "") else float(DEFAULT_TIMEOUT[1])
        except (TypeError, ValueError):
            read = float(DEFAULT_TIMEOUT[1])
        read = max(read, 1.0)
        return (min(float(DEFAULT_TIMEOUT[0]), read), read)

    @api.model
    def _get_companion_client(self, url=None, api_key=None, timeout=None):
        """A CompanionClient from the arguments, falling back to the system parameters."""
        settings = self._companion_settings()
        url = url or settings["url"]
        api_key = api_key or settings["api_key"]
        if not url or not api_key:
            raise UserError(
                _("The companion middleware is not configured: set its URL and API key in Settings > Companion.")
            )
        return CompanionClient(url, api_key, timeout=self._companion_timeout(timeout or settings["timeout"]))

    @api.model
    def _companion_user_error(self, error):
        if isinstance(error, CompanionAuthError):
            return UserError(_("The companion middleware refused the API key: %s", error.message))
        if isinstance(error, CompanionUnavailable):
            return UserError(_("The companion middleware is unavailable: %s", error.message))
        if error.code == FORBIDDEN:
            return UserError(_("The companion API key lacks the permission for this action: %s", error.message))
        return UserError(_("The companion middleware reported an error: %s", str(error)))

    @api.model
    def _companion_call(self, method, params=None, client=None):
        """Calls one method; any CompanionError becomes a UserError (for buttons)."""
        client = client or self._get_companion_client()
        try:
            return client.call(method, params)
        except CompanionError as error:
            raise self._companion_user_error(error) from None

    @api.model
    def _companion_batch(self, calls, client=None):
        client = client or self._get_companion_client()
        try:
            return client.batch(calls, raise_on_error=True)
        except CompanionError as error:
            raise self._companion_user_error(error) from None

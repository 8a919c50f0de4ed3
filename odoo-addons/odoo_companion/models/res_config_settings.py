from odoo import _, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    companion_url = fields.Char(
        string="Middleware URL",
        config_parameter="odoo_companion.url",
        help="Base URL of the odoo-companion middleware, e.g. https://companion.example.com "
        "(JSON-RPC is served at <URL>/jsonrpc).",
    )
    companion_api_key = fields.Char(
        string="API key",
        config_parameter="odoo_companion.api_key",
        help="Bearer key created with `companion apikey create --scopes read,sync`. "
        "Stored as a system parameter: only system administrators can read it.",
    )
    companion_timeout = fields.Integer(
        string="Timeout (seconds)",
        config_parameter="odoo_companion.timeout",
        default=30,
        help="How long to wait for an answer. The connection itself is given at most 5 seconds.",
    )

    def action_companion_test_connection(self):
        """Calls rpc.discover with the values on screen (saved or not) and reports the method count."""
        self.ensure_one()
        client_model = self.env["companion.client"]
        client = client_model._get_companion_client(
            url=self.companion_url, api_key=self.companion_api_key, timeout=self.companion_timeout
        )
        with client:
            document = client_model._companion_call("rpc.discover", client=client)
        document = document if isinstance(document, dict) else {}
        methods = document.get("methods") or []
        info = document.get("info") or {}
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Companion connection OK"),
                "message": _(
                    "%(title)s %(version)s answers: %(count)s methods available.",
                    title=info.get("title") or _("The middleware"),
                    version=info.get("version") or "",
                    count=len(methods),
                ),
                "type": "success",
                "sticky": False,
            },
        }

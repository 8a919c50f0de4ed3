"""Sync runs of the middleware, polled with ``sync.status`` (the middleware does the long work)."""

import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .companion_client import CompanionError
from .companion_project import companion_datetime

RUN_STATUSES = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
    ("interrupted", "Interrupted"),
]
FINAL_STATUSES = ("succeeded", "failed", "cancelled", "interrupted")


class CompanionSyncRun(models.Model):
    _name = "companion.sync.run"
    _description = "Companion sync run"
    _order = "run_id desc, id desc"
    _rec_name = "target"

    run_id = fields.Integer(string="Run ID", required=True, index=True, help="The middleware's sync run id.")
    kind = fields.Char(readonly=True)
    target = fields.Char(readonly=True)
    status = fields.Selection(RUN_STATUSES, readonly=True)
    done = fields.Integer(readonly=True)
    total = fields.Integer(readonly=True)
    counters = fields.Text(readonly=True, help="The run's counters, one 'name: value' per line.")
    counters_json = fields.Text(string="Counters (JSON)", readonly=True)
    last_step = fields.Char(readonly=True)
    error = fields.Text(readonly=True)
    queued_at = fields.Datetime(readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    polled_at = fields.Datetime(string="Last refresh", readonly=True)
    is_final = fields.Boolean(compute="_compute_is_final")

    _sql_constraints = [
        ("run_id_uniq", "unique(run_id)", "This sync run is already tracked."),
    ]

    @api.depends("run_id", "target")
    def _compute_display_name(self):
        for run in self:
            run.display_name = _("Run %(id)s %(target)s", id=run.run_id, target=run.target or "").strip()

    @api.depends("status")
    def _compute_is_final(self):
        for run in self:
            run.is_final = run.status in FINAL_STATUSES

    @api.model
    def _companion_run_values(self, data):
        counters = data.get("counters") or {}
        return {
            "kind": data.get("kind") or False,
            "target": data.get("target") or False,
            "status": data.get("status") if data.get("status") in dict(RUN_STATUSES) else False,
            "done": data.get("done") or 0,
            "total": data.get("total") or 0,
            "counters": "\n".join("%s: %s" % (key, counters[key]) for key in sorted(counters)) or False,
            "counters_json": json.dumps(counters, sort_keys=True),
            "last_step": data.get("last_step") or False,
            "error": data.get("error") or False,
            "queued_at": companion_datetime(data.get("queued_at")),
            "started_at": companion_datetime(data.get("started_at")),
            "finished_at": companion_datetime(data.get("finished_at")),
            "duration_ms": data.get("duration_ms") or 0,
            "polled_at": fields.Datetime.now(),
        }

    def action_refresh(self):
        """Polls sync.status for every selected run in one JSON-RPC batch."""
        if not self:
            return False
        client_model = self.env["companion.client"]
        runs = list(self)
        with client_model._get_companion_client() as client:
            try:
                answers = client.batch([("sync.status", {"run_id": run.run_id}) for run in runs])
            except CompanionError as error:
                raise client_model._companion_user_error(error) from None
        problems = []
        for run, answer in zip(runs, answers):
            if isinstance(answer, CompanionError):
                problems.append("%s: %s" % (run.run_id, answer))
                continue
            run.write(self._companion_run_values(answer))
        if problems:
            raise UserError(_("Some sync runs could not be refreshed:\n%s", "\n".join(problems)))
        return True

    def action_cancel(self):
        """Asks the middleware to stop the run (needs the 'sync' scope on the API key)."""
        self.ensure_one()
        client_model = self.env["companion.client"]
        with client_model._get_companion_client() as client:
            data = client_model._companion_call("sync.cancel", {"run_id": self.run_id}, client=client)
        self.write(self._companion_run_values(data))
        return True

    @api.model
    def action_fetch_recent_runs(self, limit=20):
        """Tracks the middleware's most recent runs (sync.list) and refreshes them."""
        client_model = self.env["companion.client"]
        with client_model._get_companion_client() as client:
            page = client_model._companion_call("sync.list", {"first": limit}, client=client)
        for data in page.get("items") or []:
            run = self.search([("run_id", "=", data["id"])], limit=1)
            values = self._companion_run_values(data)
            if data.get("last_step") is None:
                values.pop("last_step")  # sync.list leaves it null; sync.status (Refresh) fills it
            if run:
                run.write(values)
            else:
                self.create(dict(values, run_id=data["id"]))
        return {"type": "ir.actions.client", "tag": "soft_reload"}

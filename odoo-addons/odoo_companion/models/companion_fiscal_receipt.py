"""Fiscal receipts (54-FZ) printed by the middleware's cash register.

Odoo hands a sale to the middleware with ``receipts.create`` and keeps a mirror record
(``companion.fiscal.receipt``) that follows the receipt until the register has fiscalised it.
The middleware stores the receipt durably before it answers and prints it exactly once; the
``client_uuid`` makes every call idempotent, so sending the same receipt again (after a lost
answer, a rolled-back Odoo transaction, or from the cron) never prints it twice.

Other modules (a point-of-sale bridge, invoices paid in cash, ...) call
``env["companion.fiscal.receipt"].submit_receipt({...})`` with amounts in currency units; see
readme/USAGE.md.
"""

import json
import logging
import uuid as uuid_lib
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .companion_client import INVALID_PARAMS, NOT_FOUND, CompanionError, CompanionUnavailable
from .companion_project import companion_datetime

_logger = logging.getLogger(__name__)

RECEIPT_STATUSES = [
    ("draft", "Not sent"),
    ("queued", "Queued"),
    ("printing", "Printing"),
    ("fiscalised", "Fiscalised"),
    ("dead", "Needs attention"),
    ("cancelled", "Cancelled"),
]
#: Statuses the middleware may still change on its own: the cron polls these.
PENDING_STATUSES = ("queued", "printing")
OPERATIONS = [
    ("sale", "Sale"),
    ("sale_return", "Sale return"),
    ("purchase", "Purchase"),
    ("purchase_return", "Purchase return"),
]
TAX_SYSTEMS = [
    ("osn", "General (OSN)"),
    ("usn_income", "Simplified, income (USN)"),
    ("usn_income_outcome", "Simplified, income minus expenses"),
    ("eshn", "Agricultural tax (ESHN)"),
    ("patent", "Patent"),
]
#: Items the caller may pass through to receipts.create unchanged (snake_case, as the API names them).
ITEM_PASS_THROUGH = ("vat", "payment_method", "payment_subject", "unit", "department")


def to_minor(amount, what):
    """Currency units (Odoo's float) → kopecks, rounded half up like the register does."""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise UserError(_("%(what)s is not an amount: %(value)r", what=what, value=amount)) from None
    return int(value * 100)


class CompanionFiscalReceipt(models.Model):
    _name = "companion.fiscal.receipt"
    _description = "Fiscal receipt (printed by the companion middleware)"
    _order = "id desc"
    _rec_name = "reference"

    client_uuid = fields.Char(
        string="Client UUID", required=True, readonly=True, index=True, copy=False,
        default=lambda self: str(uuid_lib.uuid4()),
        help="Idempotency key: the middleware prints one receipt per UUID, however often it is sent.",
    )
    reference = fields.Char(help="The Odoo document this receipt is for, e.g. a point-of-sale order.")
    res_model = fields.Char(string="Source model", readonly=True)
    res_id = fields.Integer(string="Source record", readonly=True)
    receipt_id = fields.Integer(string="Middleware ID", readonly=True, index=True)
    operation = fields.Selection(OPERATIONS, default="sale", required=True, readonly=True)
    tax_system = fields.Selection(TAX_SYSTEMS, readonly=True)
    status = fields.Selection(RECEIPT_STATUSES, default="draft", required=True, readonly=True)
    amount_total = fields.Float(string="Total", readonly=True)
    amount_change = fields.Float(string="Change", readonly=True)
    fiscal_document_number = fields.Integer(string="Fiscal document no.", readonly=True)
    fiscal_sign = fields.Char(readonly=True)
    fn_serial = fields.Char(string="FN serial", readonly=True)
    shift_number = fields.Integer(readonly=True)
    receipt_number = fields.Integer(string="Receipt no. in shift", readonly=True)
    fiscalised_at = fields.Datetime(readonly=True)
    attempt_count = fields.Integer(readonly=True)
    last_error = fields.Text(readonly=True)
    last_error_code = fields.Integer(string="Device error code", readonly=True)
    payload = fields.Text(string="Request (JSON)", readonly=True, help="What is sent as receipts.create params.")
    polled_at = fields.Datetime(string="Last refresh", readonly=True)

    _sql_constraints = [
        ("client_uuid_uniq", "unique(client_uuid)", "A fiscal receipt with this client UUID already exists."),
    ]

    # -- building the request ------------------------------------------------------------
    @api.model
    def _companion_receipt_params(self, values, client_uuid):
        """receipts.create params from amounts in currency units. Bad input → UserError naming it."""
        items = []
        for index, line in enumerate(values.get("items") or []):
            if not line.get("name"):
                raise UserError(_("Receipt line %(n)s has no name.", n=index + 1))
            item = {
                "name": line["name"],
                "price_minor": to_minor(line.get("price"), _("The price of line %s", index + 1)),
                "quantity": line.get("quantity", 1),
            }
            item.update({key: line[key] for key in ITEM_PASS_THROUGH if line.get(key) not in (None, False, "")})
            items.append(item)
        payments = [
            {"type": p.get("type"), "amount_minor": to_minor(p.get("amount"), _("Payment %s", index + 1))}
            for index, p in enumerate(values.get("payments") or [])
        ]
        params = {
            "client_uuid": client_uuid,
            "operation": values.get("operation") or "sale",
            "tax_system": values.get("tax_system"),
            "items": items,
            "payments": payments,
        }
        if values.get("total") is not None:
            params["total_minor"] = to_minor(values["total"], _("The total"))
        for key in ("customer_contact", "cashier_name"):
            if values.get(key):
                params[key] = values[key]
        return params

    # -- public API for other modules ----------------------------------------------------
    @api.model
    def submit_receipt(self, values):
        """Queues a receipt on the middleware's register and returns its mirror record.

        ``values``: ``items`` [{name, price, quantity, vat, payment_method?, payment_subject?,
        unit?, department?}], ``payments`` [{type: cash|electronic|..., amount}], ``tax_system``,
        optional ``operation`` (default sale), ``total``, ``customer_contact``, ``cashier_name``,
        ``reference``, ``res_model``/``res_id`` (the source document) and ``client_uuid``.
        Amounts are in currency units. Pass a ``client_uuid`` stored on the source document to
        stay idempotent across Odoo transactions; a second call with it returns the same record.

        Invalid input raises UserError with the middleware's per-field problems (nothing is
        queued). When the middleware cannot be reached the record stays "Not sent" and the cron
        sends it later: the sale is never blocked by the network.
        """
        client_uuid = (values.get("client_uuid") or str(uuid_lib.uuid4())).strip().lower()
        existing = self.search([("client_uuid", "=", client_uuid)], limit=1)
        if existing:
            existing._companion_send()  # sends it if it is still a draft
            return existing
        params = self._companion_receipt_params(values, client_uuid)
        record = self.create(
            {
                "client_uuid": client_uuid,
                "reference": values.get("reference") or False,
                "res_model": values.get("res_model") or False,
                "res_id": values.get("res_id") or 0,
                "operation": params["operation"] if params["operation"] in dict(OPERATIONS) else "sale",
                "tax_system": params["tax_system"] if params["tax_system"] in dict(TAX_SYSTEMS) else False,
                # Until the middleware answers: the lines' sum as the register computes it.
                "amount_total": sum(
                    int((Decimal(i["price_minor"]) * Decimal(str(i["quantity"]))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                    for i in params["items"]
                ) / 100.0,
                "payload": json.dumps(params, ensure_ascii=False, sort_keys=True),
            }
        )
        try:
            record._companion_send()
        except UserError:
            # Refused input: nothing was queued, so keep nothing (Odoo's rollback does the same).
            record.unlink()
            raise
        return record

    # -- talking to the middleware -------------------------------------------------------
    def _companion_receipt_values(self, data):
        """Mirror values from a middleware receipt (receipts.create / get / retry / cancel)."""
        status = data.get("status")
        return {
            "receipt_id": data.get("id") or 0,
            "status": status if status in dict(RECEIPT_STATUSES) else "queued",
            "amount_total": (data.get("total_minor") or 0) / 100.0,
            "amount_change": (data.get("change_minor") or 0) / 100.0,
            "fiscal_document_number": data.get("fiscal_document_number") or 0,
            "fiscal_sign": data.get("fiscal_sign") or False,
            "fn_serial": data.get("fn_serial") or False,
            "shift_number": data.get("shift_number") or 0,
            "receipt_number": data.get("receipt_number") or 0,
            "fiscalised_at": companion_datetime(data.get("fiscalised_at")),
            "attempt_count": data.get("attempt_count") or 0,
            "last_error": data.get("last_error") or False,
            "last_error_code": data.get("last_error_code") or 0,
            "polled_at": fields.Datetime.now(),
        }

    def _companion_send(self, client=None, refused="raise"):
        """receipts.create for each draft, on one client.

        Unreachable middleware → the record stays draft with the reason (the cron sends it
        later). Input the middleware refuses → UserError naming the fields, or with
        ``refused="record"`` (the cron) the reason is written on the draft for a person to see.
        """
        drafts = self.filtered(lambda r: r.status == "draft")
        if not drafts:
            return True
        client_model = self.env["companion.client"]
        own = client or client_model._get_companion_client()
        try:
            for record in drafts:
                try:
                    answer = own.call("receipts.create", json.loads(record.payload or "{}"))
                except CompanionUnavailable as error:
                    record.write({"last_error": _("Not sent yet: %s", error.message), "polled_at": fields.Datetime.now()})
                    continue
                except CompanionError as error:
                    if error.code != INVALID_PARAMS:
                        raise client_model._companion_user_error(error) from None
                    text = _("The cash register would not accept this receipt: %s", str(error))
                    if refused != "record":
                        raise UserError(text) from None
                    record.write({"last_error": text, "polled_at": fields.Datetime.now()})
                    continue
                record.write(self._companion_receipt_values(answer["receipt"]))
        finally:
            if client is None:
                own.close()
        return True

    def _companion_key(self):
        self.ensure_one()
        return {"id": self.receipt_id} if self.receipt_id else {"client_uuid": self.client_uuid}

    def action_send(self):
        """Button: send receipts that did not reach the middleware yet."""
        with self.env["companion.client"]._get_companion_client() as client:
            self._companion_send(client)
        still = self.filtered(lambda r: r.status == "draft")
        if still:
            raise UserError(_("The middleware is still unreachable:\n%s", "\n".join(still.mapped("last_error"))))
        return True

    def action_refresh(self):
        """Button: receipts.get for every selected receipt the middleware knows, in one batch."""
        sent = self.filtered(lambda r: r.status != "draft")
        if not sent:
            return True
        client_model = self.env["companion.client"]
        records = list(sent)
        with client_model._get_companion_client() as client:
            try:
                answers = client.batch([("receipts.get", r._companion_key()) for r in records])
            except CompanionError as error:
                raise client_model._companion_user_error(error) from None
        problems = []
        for record, answer in zip(records, answers):
            if isinstance(answer, CompanionError):
                problems.append("%s: %s" % (record.reference or record.client_uuid, answer))
                continue
            record.write(self._companion_receipt_values(answer))
        if problems:
            raise UserError(_("Some receipts could not be refreshed:\n%s", "\n".join(problems)))
        return True

    def action_retry(self):
        """Button: print a receipt the register refused again (after fixing the cause)."""
        self.ensure_one()
        if self.status != "dead":
            raise UserError(_("Only receipts that need attention can be retried."))
        client_model = self.env["companion.client"]
        data = client_model._companion_call("receipts.retry", self._companion_key())
        self.write(self._companion_receipt_values(data))
        return True

    def action_cancel(self):
        """Button: withdraw a receipt that is not fiscalised; it will never be printed."""
        self.ensure_one()
        if self.status in ("fiscalised", "cancelled"):
            raise UserError(_("A fiscalised receipt cannot be cancelled: issue a return receipt instead."))
        client_model = self.env["companion.client"]
        with client_model._get_companion_client() as client:
            try:
                data = client.call("receipts.cancel", self._companion_key())
            except CompanionError as error:
                if self.status == "draft" and error.code == NOT_FOUND:
                    # It never reached the middleware: nothing to withdraw there.
                    self.write({"status": "cancelled", "polled_at": fields.Datetime.now()})
                    return True
                raise client_model._companion_user_error(error) from None
        self.write(self._companion_receipt_values(data))
        return True

    @api.model
    def action_register_status(self):
        """Button: the cash register's state and queue (kkt.status) as a notification."""
        data = self.env["companion.client"]._companion_call("kkt.status", {})
        queue = data.get("queue") or {}
        message = _(
            "Register: %(state)s, shift %(shift)s, last document %(fd)s. Queue: %(queued)s queued, %(dead)s need attention.",
            state=data.get("state"),
            shift=data.get("shift_number") if data.get("shift_open") else _("closed"),
            fd=data.get("last_fiscal_document_number"),
            queued=queue.get("queued", 0),
            dead=queue.get("dead", 0),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Cash register"),
                "message": message,
                "type": "success" if data.get("state") == "ready" else "warning",
                "sticky": False,
                "status": data,
            },
        }

    @api.model
    def _cron_sync_receipts(self, limit=200):
        """Scheduled: send what is not sent yet, then refresh what the middleware may still change."""
        client_model = self.env["companion.client"]
        with client_model._get_companion_client() as client:
            self.search([("status", "=", "draft")], limit=limit)._companion_send(client, refused="record")
            pending = self.search([("status", "in", PENDING_STATUSES)], limit=limit)
            if not pending:
                return True
            try:
                answers = client.batch([("receipts.get", r._companion_key()) for r in pending])
            except CompanionUnavailable as error:
                _logger.warning("companion receipts: refresh skipped, middleware unavailable (%s)", error.message)
                return True
            for record, answer in zip(list(pending), answers):
                if not isinstance(answer, CompanionError):
                    record.write(self._companion_receipt_values(answer))
        return True

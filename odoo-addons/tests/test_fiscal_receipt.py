"""Fiscal receipts from Odoo through the REAL middleware and its cash register (an emulator in
the test server): submit, idempotency, refused input, an unreachable middleware, the cron."""

import time
import uuid

import pytest

from odoo.api import Environment
from odoo.exceptions import UserError
from odoo_companion.models.companion_fiscal_receipt import to_minor


def sale(**over):
    values = {
        "reference": "Shop/0001",
        "tax_system": "osn",
        "items": [
            {"name": "Кофе в зёрнах, 250 г", "price": 450.0, "quantity": 2, "vat": "vat22"},
            {"name": "Молоко 3,2 %", "price": 89.9, "quantity": 1, "vat": "vat10", "unit": "piece"},
        ],
        "payments": [{"type": "cash", "amount": 1000}],
        "cashier_name": "Иванова А.",
    }
    values.update(over)
    return values


def wait_fiscalised(receipt, seconds=15):
    """What an Odoo deployment's cron does every minute, a few times a second."""
    until = time.monotonic() + seconds
    while receipt.status in ("queued", "printing") and time.monotonic() < until:
        time.sleep(0.1)
        receipt.env["companion.fiscal.receipt"]._cron_sync_receipts()
    return receipt


def test_amounts_are_rounded_half_up_to_kopecks():
    assert to_minor(59.9, "x") == 5990
    assert to_minor(1.005, "x") == 101  # what the user typed, not the binary float below it
    assert to_minor(0.004, "x") == 0
    assert to_minor("12.345", "x") == 1235
    with pytest.raises(UserError):
        to_minor("twelve", "The price")


def test_submit_queues_prints_and_mirrors_the_fiscal_data(configured_env):
    Receipt = configured_env["companion.fiscal.receipt"]
    receipt = Receipt.submit_receipt(sale(res_model="pos.order", res_id=42))
    assert receipt.receipt_id > 0
    assert receipt.status in ("queued", "printing", "fiscalised")
    assert receipt.amount_total == pytest.approx(989.9)  # 2 × 450 + 89.90
    assert receipt.amount_change == pytest.approx(10.1)  # paid 1000 in cash
    assert (receipt.res_model, receipt.res_id, receipt.operation, receipt.tax_system) == ("pos.order", 42, "sale", "osn")

    wait_fiscalised(receipt)
    assert receipt.status == "fiscalised", receipt.last_error
    assert receipt.fn_serial and receipt.fiscal_sign
    assert receipt.fiscal_document_number > 0 and receipt.shift_number > 0
    assert receipt.fiscalised_at

    # The middleware holds the same receipt, with what Odoo sent.
    data = configured_env["companion.client"]._companion_call("receipts.get", {"client_uuid": receipt.client_uuid})
    assert data["id"] == receipt.receipt_id and data["status"] == "fiscalised"
    assert [i["price_minor"] for i in data["items"]] == [45000, 8990]
    assert data["cashier_name"] == "Иванова А."


def test_the_same_client_uuid_never_prints_twice(configured_env, companion_url, companion_api_key):
    key = str(uuid.uuid4())
    first = configured_env["companion.fiscal.receipt"].submit_receipt(sale(client_uuid=key))
    again = configured_env["companion.fiscal.receipt"].submit_receipt(sale(client_uuid=key.upper()))
    assert again == first
    assert configured_env["companion.fiscal.receipt"].search_count([("client_uuid", "=", key)]) == 1

    # An Odoo transaction that rolled back after the call: a fresh database, the same key.
    fresh = Environment(context={})
    fresh["ir.config_parameter"].set_param("odoo_companion.url", companion_url)
    fresh["ir.config_parameter"].set_param("odoo_companion.api_key", companion_api_key)
    replay = fresh["companion.fiscal.receipt"].submit_receipt(sale(client_uuid=key, reference="replayed"))
    assert replay.receipt_id == first.receipt_id
    wait_fiscalised(first)
    wait_fiscalised(replay)
    assert replay.fiscal_document_number == first.fiscal_document_number


def test_refused_input_names_the_field_and_keeps_nothing(configured_env):
    Receipt = configured_env["companion.fiscal.receipt"]
    with pytest.raises(UserError) as info:
        Receipt.submit_receipt(sale(payments=[{"type": "electronic", "amount": 10}]))
    assert "payments" in str(info.value)
    with pytest.raises(UserError) as info:
        Receipt.submit_receipt(sale(items=[{"name": "Хлеб", "price": 50, "quantity": 1, "vat": "vat99"}], payments=[{"type": "cash", "amount": 50}]))
    assert "items.0.vat" in str(info.value)
    with pytest.raises(UserError):
        Receipt.submit_receipt(sale(items=[{"price": 50, "quantity": 1, "vat": "vat22"}]))
    assert Receipt.search_count([]) == 0


def test_unreachable_middleware_keeps_a_draft_that_the_cron_sends(configured_env, companion_url, dead_url):
    params = configured_env["ir.config_parameter"]
    params.set_param("odoo_companion.url", dead_url)
    Receipt = configured_env["companion.fiscal.receipt"]
    receipt = Receipt.submit_receipt(sale(reference="offline sale"))
    assert receipt.status == "draft" and receipt.receipt_id == 0
    assert receipt.amount_total == pytest.approx(989.9)
    assert "Not sent yet" in receipt.last_error
    with pytest.raises(UserError):
        receipt.action_send()  # still unreachable: says so

    params.set_param("odoo_companion.url", companion_url)
    Receipt._cron_sync_receipts()
    assert receipt.status in ("queued", "printing", "fiscalised") and receipt.receipt_id > 0
    wait_fiscalised(receipt)
    assert receipt.status == "fiscalised"


def test_cancel_and_retry_rules(configured_env, dead_url):
    params = configured_env["ir.config_parameter"]
    url = params.get_param("odoo_companion.url")
    Receipt = configured_env["companion.fiscal.receipt"]

    # A draft that never reached the middleware is cancelled locally (the middleware says not found).
    params.set_param("odoo_companion.url", dead_url)
    draft = Receipt.submit_receipt(sale(reference="never sent"))
    params.set_param("odoo_companion.url", url)
    draft.action_cancel()
    assert draft.status == "cancelled"
    Receipt._cron_sync_receipts()
    assert draft.status == "cancelled"  # the cron does not send cancelled receipts

    printed = wait_fiscalised(Receipt.submit_receipt(sale()))
    with pytest.raises(UserError):
        printed.action_cancel()  # a return receipt is the way back
    with pytest.raises(UserError):
        printed.action_retry()  # only receipts that need attention


def test_register_status_notification(configured_env):
    action = configured_env["companion.fiscal.receipt"].action_register_status()
    assert action["tag"] == "display_notification"
    status = action["params"]["status"]
    assert status["configured"] is True and status["state"] in ("ready", "starting")
    assert status["fn_serial"]
    assert "queued" in status["queue"]

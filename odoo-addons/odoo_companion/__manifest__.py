# Bundled with the odoo-companion middleware (odoo-addons/odoo_companion); targets Odoo 17.
{
    "name": "Odoo Companion",
    "version": "17.0.1.1.0",
    "summary": "Mirror Logikal projects, follow sync runs and print fiscal receipts through the odoo-companion middleware (JSON-RPC)",
    "author": "odoo-companion",
    "license": "LGPL-3",
    "category": "Manufacturing",
    "depends": ["base"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_config_parameter.xml",
        "data/ir_cron.xml",
        "views/companion_project_views.xml",
        "views/companion_sync_run_views.xml",
        "views/companion_fiscal_receipt_views.xml",
        "views/res_config_settings_views.xml",
        "views/companion_menus.xml",
    ],
    "installable": True,
    "application": True,
    "auto_install": False,
}

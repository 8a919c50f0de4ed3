"""TEST STUB of the ``odoo`` package. This is NOT Odoo.

Real Odoo cannot be installed on the dev/CI machines (see
shared/reference/graphql-jsonrpc-odoo.md §3.4), so odoo-addons/tests put this tiny
stand-in on sys.path. It only needs to be good enough for the bundled addons to import
and for their pure logic (RPC client, import/upsert code, button methods) to run against
an in-memory store:

* ``models.Model`` / ``TransientModel`` / ``AbstractModel`` with ``_name`` / ``_inherit``;
* ``fields.*`` descriptors (stored values, many2one / one2many, related, non-stored compute);
* ``api.Environment`` holding every record in dicts; ``search`` understands a flat AND of
  ``(field, op, value)`` leaves; ``_sql_constraints`` of the form ``unique(a, b)`` are
  enforced so that upsert bugs show up as errors, as they would in PostgreSQL;
* ``api.model`` / ``depends`` / ``constrains`` / ``onchange`` are no-op decorators;
* ``exceptions.UserError`` / ``ValidationError``; ``_``; ``http.Controller`` / ``route``;
* ``ir.config_parameter`` (get_param / set_param) and a base ``res.config.settings``.

Never ship it, never import it from addon code paths that run inside a real Odoo.
"""

IS_TEST_STUB = True
SUPERUSER_ID = 1


def _(source, *args, **kwargs):
    """Stand-in for odoo's translation function: no translation, only interpolation."""
    if args:
        return source % (args[0] if len(args) == 1 and isinstance(args[0], dict) else args)
    if kwargs:
        return source % kwargs
    return source


from . import exceptions  # noqa: E402
from . import fields  # noqa: E402
from . import api  # noqa: E402
from . import models  # noqa: E402
from . import http  # noqa: E402
from . import _base_models  # noqa: E402,F401  (registers ir.config_parameter, res.config.settings)

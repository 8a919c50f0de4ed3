"""TEST STUB: the few models of Odoo's ``base`` module that the bundled addons use."""

from . import api, fields, models


class IrConfigParameter(models.Model):
    _name = "ir.config_parameter"
    _description = "System Parameter (test stub)"
    _rec_name = "key"
    _sql_constraints = [("key_uniq", "unique (key)", "Key must be unique.")]

    key = fields.Char(required=True)
    value = fields.Text(required=True)

    @api.model
    def get_param(self, key, default=False):
        param = self.search([("key", "=", key)], limit=1)
        return param.value if param else default

    @api.model
    def set_param(self, key, value):
        param = self.search([("key", "=", key)], limit=1)
        old = param.value if param else False
        if value is False or value is None:
            if param:
                param.unlink()
        elif param:
            param.write({"value": str(value)})
        else:
            self.create({"key": key, "value": str(value)})
        return old


class ResConfigSettings(models.TransientModel):
    _name = "res.config.settings"
    _description = "Config Settings (test stub)"

    @api.model
    def default_get(self, fields_list=None):
        params = self.env["ir.config_parameter"].sudo()
        values = {}
        for name, field in self._fields.items():
            if field.config_parameter:
                raw = params.get_param(field.config_parameter, False)
                if raw is not False and isinstance(field, fields.Integer):
                    raw = int(raw)
                values[name] = raw if raw is not False else field.default_value(self)
        return values

    def execute(self):
        params = self.env["ir.config_parameter"].sudo()
        for record in self:
            for name, field in record._fields.items():
                if field.config_parameter:
                    value = getattr(record, name)
                    params.set_param(field.config_parameter, value if value or value == 0 else False)
        return True

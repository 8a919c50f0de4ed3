"""TEST STUB: odoo.fields as plain descriptors over the stub Environment's dicts."""

import datetime as _dt


class Field:
    type = None
    falsy = False

    def __init__(self, string=None, **kwargs):
        self.string = string
        self.name = None
        self.model_name = None
        self.required = kwargs.pop("required", False)
        self.readonly = kwargs.pop("readonly", False)
        self.default = kwargs.pop("default", None)
        self.compute = kwargs.pop("compute", None)
        self.related = kwargs.pop("related", None)
        self.store = kwargs.pop("store", not (self.compute or self.related))
        self.config_parameter = kwargs.pop("config_parameter", None)
        self.args = kwargs  # help, index, copy, tracking, ondelete, ... kept for introspection

    def __set_name__(self, owner, name):
        self.name = name

    # -- descriptor protocol -------------------------------------------------------------
    def __get__(self, record, owner=None):
        if record is None:
            return self
        if not record._ids:
            return self.empty_value(record)
        record.ensure_one()
        rid = record._ids[0]
        if self.related:
            value = record
            for part in self.related.split("."):
                value = getattr(value, part)
            return value
        if self.compute and not self.store:
            key = (record._name, rid, self.name)
            record.env.cache.pop(key, None)
            getattr(record, self.compute)()
            raw = record.env.cache.get(key, self.falsy)
        else:
            raw = record.env.table(record._name).get(rid, {}).get(self.name, self.falsy)
        return self.convert_to_record(raw, record)

    def __set__(self, record, value):
        if self.compute and not self.store:
            for rid in record._ids:
                record.env.cache[(record._name, rid, self.name)] = self.convert_to_cache(value, record)
            return
        record.write({self.name: value})

    # -- conversions ---------------------------------------------------------------------
    def empty_value(self, record):
        return self.falsy

    def convert_to_cache(self, value, record):
        return value

    def convert_to_record(self, value, record):
        return value

    def default_value(self, record):
        if callable(self.default):
            return self.default(record)
        return self.default if self.default is not None else self.falsy


class Char(Field):
    type = "char"

    def convert_to_cache(self, value, record):
        if value is None or value is False:
            return False
        return str(value)


class Text(Char):
    type = "text"


class Html(Char):
    type = "html"


class Integer(Field):
    type = "integer"
    falsy = 0

    def convert_to_cache(self, value, record):
        return int(value or 0)


class Float(Field):
    type = "float"
    falsy = 0.0

    def convert_to_cache(self, value, record):
        return float(value or 0.0)


class Monetary(Float):
    type = "monetary"


class Boolean(Field):
    type = "boolean"

    def convert_to_cache(self, value, record):
        return bool(value)


class Datetime(Field):
    type = "datetime"

    def convert_to_cache(self, value, record):
        if not value:
            return False
        if isinstance(value, str):
            value = _dt.datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")
        if not isinstance(value, _dt.datetime):
            raise ValueError("%s: not a datetime: %r" % (self.name, value))
        if value.tzinfo is not None:
            raise ValueError("%s: Odoo datetimes are naive UTC, got %r" % (self.name, value))
        return value.replace(microsecond=0)

    @staticmethod
    def now():
        return _dt.datetime.utcnow().replace(microsecond=0)

    @staticmethod
    def to_string(value):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value else False


class Date(Field):
    type = "date"


class Binary(Field):
    type = "binary"


class Selection(Field):
    type = "selection"

    def __init__(self, selection=None, string=None, **kwargs):
        super().__init__(string=string, **kwargs)
        self.selection = selection or []

    def convert_to_cache(self, value, record):
        if not value:
            return False
        allowed = [key for key, _label in self.selection]
        if value not in allowed:
            raise ValueError("Wrong value for %s.%s: %r" % (record._name, self.name, value))
        return value


class Many2one(Field):
    type = "many2one"

    def __init__(self, comodel_name=None, string=None, **kwargs):
        self.ondelete = kwargs.pop("ondelete", "set null")
        super().__init__(string=string, **kwargs)
        self.comodel_name = comodel_name

    def empty_value(self, record):
        return record.env[self.comodel_name]

    def convert_to_cache(self, value, record):
        if not value:
            return False
        if hasattr(value, "_ids"):
            value.ensure_one()
            return value._ids[0]
        return int(value)

    def convert_to_record(self, value, record):
        return record.env[self.comodel_name].browse([value] if value else [])


class One2many(Field):
    type = "one2many"

    def __init__(self, comodel_name=None, inverse_name=None, string=None, **kwargs):
        super().__init__(string=string, **kwargs)
        self.comodel_name = comodel_name
        self.inverse_name = inverse_name
        self.store = False

    def empty_value(self, record):
        return record.env[self.comodel_name]

    def __get__(self, record, owner=None):
        if record is None:
            return self
        if not record._ids:
            return self.empty_value(record)
        record.ensure_one()
        return record.env[self.comodel_name].search([(self.inverse_name, "=", record._ids[0])])

    def __set__(self, record, value):
        raise NotImplementedError("The odoo test stub does not write one2many fields")


class Many2many(One2many):
    type = "many2many"

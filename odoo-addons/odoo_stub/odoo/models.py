"""TEST STUB: odoo.models. Recordsets over the stub Environment; see odoo/__init__.py."""

import re

from . import fields as _fields
from .exceptions import UserError, ValidationError

# model name -> class; an ``_inherit`` extension replaces the entry with a subclass of both.
REGISTRY = {}

_UNIQUE = re.compile(r"^\s*unique\s*\(([^)]*)\)\s*$", re.IGNORECASE)


class MetaModel(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        if not attrs.get("_register", True):
            return
        inherit = attrs.get("_inherit") or []
        parents = [inherit] if isinstance(inherit, str) else list(inherit)
        model_name = attrs.get("_name") or (parents[0] if parents else None)
        if not model_name:
            raise TypeError("%s: a model needs _name or _inherit" % name)
        previous = REGISTRY.get(model_name)
        if previous is not None and model_name in parents:
            combined = MetaModel(name, (cls, previous), {"_register": False, "_name": model_name})
            REGISTRY[model_name] = combined
        else:
            cls._name = model_name
            REGISTRY[model_name] = cls


class BaseModel(metaclass=MetaModel):
    _register = False
    _name = None
    _inherit = None
    _description = None
    _order = "id"
    _rec_name = "name"
    _sql_constraints = []
    _transient = False
    _abstract = False

    # like Odoo 17: every model has display_name, computed by _compute_display_name
    display_name = _fields.Char(string="Display Name", compute="_compute_display_name")

    def __init__(self, env, ids=()):
        self.env = env
        self._ids = tuple(ids)

    def _compute_display_name(self):
        for record in self:
            name = getattr(record, self._rec_name, False) if self._rec_name in self._fields else False
            record.display_name = name or "%s,%s" % (record._name, record.id)

    # -- introspection -------------------------------------------------------------------
    @classmethod
    def _get_fields(cls):
        found = {}
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if isinstance(value, _fields.Field):
                    found[key] = value
        return found

    @property
    def _fields(self):
        return self._get_fields()

    @property
    def _context(self):
        return self.env.context

    # -- recordset basics ----------------------------------------------------------------
    @property
    def ids(self):
        return list(self._ids)

    @property
    def id(self):
        return self._ids[0] if len(self._ids) == 1 else False

    def __iter__(self):
        for rid in self._ids:
            yield self.__class__(self.env, (rid,))

    def __len__(self):
        return len(self._ids)

    def __bool__(self):
        return bool(self._ids)

    def __eq__(self, other):
        return isinstance(other, BaseModel) and other._name == self._name and set(other._ids) == set(self._ids)

    def __hash__(self):
        return hash((self._name, frozenset(self._ids)))

    def __getitem__(self, index):
        if isinstance(index, str):
            return getattr(self, index)
        if isinstance(index, slice):
            return self.__class__(self.env, self._ids[index])
        return self.__class__(self.env, (self._ids[index],))

    def __repr__(self):
        return "%s%r" % (self._name, self._ids)

    def ensure_one(self):
        if len(self._ids) != 1:
            raise ValueError("Expected singleton: %r" % (self,))
        return self

    def browse(self, ids=()):
        if isinstance(ids, int):
            ids = [ids]
        return self.__class__(self.env, tuple(ids))

    def exists(self):
        table = self.env.table(self._name)
        return self.browse([rid for rid in self._ids if rid in table])

    def sudo(self, flag=True):
        return self

    def with_context(self, *args, **kwargs):
        context = dict(args[0]) if args else dict(self.env.context)
        context.update(kwargs)
        return self.__class__(self.env(context=context), self._ids)

    def with_user(self, user):
        return self

    def mapped(self, name):
        values = [getattr(rec, name) for rec in self]
        if values and isinstance(values[0], BaseModel):
            ids = []
            for value in values:
                ids.extend(i for i in value._ids if i not in ids)
            return values[0].browse(ids)
        return values

    def filtered(self, func):
        if isinstance(func, str):
            name = func
            func = lambda rec: getattr(rec, name)  # noqa: E731
        return self.browse([rec.id for rec in self if func(rec)])

    # -- CRUD ----------------------------------------------------------------------------
    def _convert_vals(self, vals):
        fields_ = self._fields
        converted = {}
        for key, value in vals.items():
            field = fields_.get(key)
            if field is None:
                raise ValueError("Invalid field %r on model %r" % (key, self._name))
            if not field.store:
                raise ValueError("Field %s.%s is not stored; the stub cannot write it" % (self._name, key))
            converted[key] = field.convert_to_cache(value, self)
        return converted

    def create(self, vals_list):
        if self._abstract:
            raise TypeError("Cannot create records of abstract model %s" % self._name)
        single = isinstance(vals_list, dict)
        table = self.env.table(self._name)
        new_ids = []
        for vals in [vals_list] if single else vals_list:
            record_vals = {}
            for name, field in self._fields.items():
                if field.store and name not in vals:
                    record_vals[name] = field.convert_to_cache(field.default_value(self), self)
            record_vals.update(self._convert_vals(vals))
            rid = self.env.next_id(self._name)
            self._check_required(record_vals)
            self._check_unique(record_vals, exclude_id=None)
            table[rid] = record_vals
            new_ids.append(rid)
        return self.browse(new_ids)

    def write(self, vals):
        converted = self._convert_vals(vals)
        table = self.env.table(self._name)
        for rid in self._ids:
            merged = dict(table[rid], **converted)
            self._check_required(merged)
            self._check_unique(merged, exclude_id=rid)
            table[rid] = merged
        return True

    def unlink(self):
        table = self.env.table(self._name)
        for rid in self._ids:
            table.pop(rid, None)
        # ondelete="cascade" / "set null" for stored many2ones pointing here
        for model_name, cls in REGISTRY.items():
            for name, field in cls._get_fields().items():
                if isinstance(field, _fields.Many2one) and field.store and field.comodel_name == self._name:
                    dependents = self.env[model_name].search([(name, "in", list(self._ids))])
                    if not dependents:
                        continue
                    if field.ondelete == "cascade":
                        dependents.unlink()
                    else:
                        dependents.write({name: False})
        return True

    def _check_required(self, record_vals):
        for name, field in self._fields.items():
            if field.store and field.required and record_vals.get(name) in (False, None, ""):
                raise ValidationError("Missing required value for %s.%s" % (self._name, name))

    def _check_unique(self, record_vals, exclude_id):
        table = self.env.table(self._name)
        for key, definition, message in self._sql_constraints:
            match = _UNIQUE.match(definition)
            if not match:
                continue
            columns = [c.strip() for c in match.group(1).split(",")]
            # NULLs never collide in PostgreSQL unique indexes
            if any(record_vals.get(c) in (False, None) for c in columns):
                continue
            wanted = tuple(record_vals.get(c) for c in columns)
            for rid, other in table.items():
                if rid != exclude_id and tuple(other.get(c) for c in columns) == wanted:
                    raise ValidationError("%s (%s_%s violated by %r)" % (message, self._name, key, wanted))

    # -- search --------------------------------------------------------------------------
    def _match(self, record, leaf):
        name, op, value = leaf
        current = getattr(record, name)
        if isinstance(current, BaseModel):
            current = current.id
        if isinstance(value, BaseModel):
            value = value.ids if op in ("in", "not in") else value.id
        if op == "=":
            return current == value or (not current and not value)
        if op == "!=":
            return not (current == value or (not current and not value))
        if op == "in":
            return current in value
        if op == "not in":
            return current not in value
        if op in ("ilike", "like"):
            return str(value).lower() in str(current or "").lower()
        if op in (">", ">=", "<", "<="):
            return {">": current > value, ">=": current >= value, "<": current < value, "<=": current <= value}[op]
        raise NotImplementedError("The odoo test stub does not support operator %r" % op)

    def search(self, domain=None, offset=0, limit=None, order=None):
        leaves = [leaf for leaf in (domain or []) if leaf != "&"]
        if any(not isinstance(leaf, (tuple, list)) for leaf in leaves):
            raise NotImplementedError("The odoo test stub only supports AND domains: %r" % (domain,))
        ids = []
        for rid in sorted(self.env.table(self._name)):
            record = self.browse(rid)
            if all(self._match(record, tuple(leaf)) for leaf in leaves):
                ids.append(rid)
        ids = ids[offset:]
        if limit is not None:
            ids = ids[:limit]
        return self.browse(ids)

    def search_count(self, domain=None, limit=None):
        return len(self.search(domain, limit=limit))

    def read(self, fields=None):
        names = fields or list(self._fields)
        return [{"id": rec.id, **{n: getattr(rec, n) for n in names}} for rec in self]


class Model(BaseModel):
    _register = False


class TransientModel(Model):
    _register = False
    _transient = True


class AbstractModel(BaseModel):
    _register = False
    _abstract = True


__all__ = ["AbstractModel", "BaseModel", "Model", "REGISTRY", "TransientModel", "UserError", "ValidationError"]

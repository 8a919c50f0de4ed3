"""TEST STUB: odoo.api (no-op decorators and an in-memory Environment)."""


def model(method):
    return method


def model_create_multi(method):
    return method


def _identity_decorator(*_args, **_kwargs):
    def decorator(method):
        return method

    return decorator


depends = _identity_decorator
depends_context = _identity_decorator
constrains = _identity_decorator
onchange = _identity_decorator
ondelete = _identity_decorator


class Environment:
    """Every record of every model lives in ``self.data[model_name][id] = {field: value}``.

    ``Environment()`` starts an empty database; ``with_context`` / ``sudo`` share it.
    """

    def __init__(self, cr=None, uid=1, context=None, _data=None, _cache=None):
        self.cr = cr
        self.uid = uid
        self.context = dict(context or {})
        self.data = _data if _data is not None else {}
        self.cache = _cache if _cache is not None else {}
        self.su = True

    def __getitem__(self, model_name):
        from .models import REGISTRY

        try:
            cls = REGISTRY[model_name]
        except KeyError:
            raise KeyError("Model %r is not registered in the odoo test stub" % model_name) from None
        return cls(self, ())

    def __contains__(self, model_name):
        from .models import REGISTRY

        return model_name in REGISTRY

    def __call__(self, context=None):
        return Environment(self.cr, self.uid, context if context is not None else self.context, self.data, self.cache)

    def table(self, model_name):
        return self.data.setdefault(model_name, {})

    def next_id(self, model_name):
        table = self.table(model_name)
        return max(table, default=0) + 1

    def invalidate_all(self):
        self.cache.clear()

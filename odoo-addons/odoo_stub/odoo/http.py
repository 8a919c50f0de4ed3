"""TEST STUB: odoo.http (Controller and a route decorator that only records its arguments)."""

request = None


class Controller:
    pass


def route(route=None, **kw):
    def decorator(func):
        func.routing = dict(kw, routes=[route] if isinstance(route, str) else (route or []))
        return func

    return decorator

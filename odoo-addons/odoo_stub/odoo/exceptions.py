"""TEST STUB: odoo.exceptions (names only)."""


class UserError(Exception):
    """An error shown to the user as a dialog."""

    def __init__(self, message=""):
        super().__init__(message)
        self.args = (message,)

    @property
    def name(self):
        return self.args[0]


class ValidationError(UserError):
    pass


class AccessError(UserError):
    pass


class MissingError(UserError):
    pass


class RedirectWarning(Exception):
    pass

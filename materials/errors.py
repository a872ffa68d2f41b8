"""The catalog's domain errors: a stable `code` for programs, a `message` for people."""


class CatalogError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ImageIntakeError(CatalogError):
    """An image refused at intake."""


class MaterialError(CatalogError):
    """A catalog write refused for a reason people can act on."""

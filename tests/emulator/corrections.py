"""Corrections to moto's CloudFormation, applied on import. See the README's emulator section."""


def wrap(app):
    """The WSGI app the server runs: moto's, behind the fault-injection control endpoint."""
    return app

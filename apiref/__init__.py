"""The API's reference: the OpenAPI document (``openapi``) and the pages that serve it (``views``)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the reference blueprint (idempotent)."""
    from apiref.views import bp

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)

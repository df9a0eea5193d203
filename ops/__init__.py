"""What an operator and a load balancer ask of a running service: ``/healthz``, ``/readyz`` and
``/metrics`` (Prometheus), and the request and pool measurements behind them.

``service.py`` answers readiness from a session and the live index, without Flask; ``metrics.py``
defines the Prometheus metrics and the hooks that feed them; ``views.py`` is the blueprint.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # ops.service, beneath this package, must load without Flask
    from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint and start measuring requests and the database pool."""
    from ops import metrics
    from ops.views import bp

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    metrics.instrument(app)

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
    """Register the blueprint, gate requests past the process's capacity (ADMIT_* settings),
    and start measuring requests and the database pool."""
    from common.admission import AdmissionLimits
    from ops import admission, metrics
    from ops.views import bp

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    admission.install(app, AdmissionLimits(active=app.config["ADMIT_ACTIVE"], queue=app.config["ADMIT_QUEUE"],
                                           wait=app.config["ADMIT_WAIT"]))
    # After the gate, so the timer (first of all) counts the wait at the gate.
    metrics.instrument(app)

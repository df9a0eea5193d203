"""Long work as jobs: imports, fragment-model training (and later exports, alignment,
pre-translation), run by a worker beside the web processes.

The ``jobs`` table is the source of truth (state, progress, result or error, who, when); the queue
library (huey, see ``docs/jobs.md``) only carries job ids to a worker. ``models``, ``repository``,
``service`` and ``queue`` load no Flask; ``api``, ``webutil`` and ``cli`` are the web layer.
"""

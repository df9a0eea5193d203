"""Harvesting translation memory from an article and its translation: sentence alignment
(``core``), alignment jobs and storing approved pairs (``service``, ``repository``,
``models``), the review pages and JSON API (``views``, ``api``) and the command line
(``cli``, also ``python -m align``).

``align`` may import ``tm`` and ``common``; ``tm`` and ``glossary`` never import ``align``
(``tests/core/test_layers.py`` checks). Nothing here but the web layer loads Flask.
"""

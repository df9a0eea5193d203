"""Code every area shares, free of Flask: domain errors, messages, languages, text folding,
time, parameter checks, column bounds and the event cursor.

Nothing here imports Flask, flask_babel or an area package (``tm``, ``glossary``, ...), so the
pure cores and the services may use all of it (``tests/core/test_layers.py`` checks).
"""

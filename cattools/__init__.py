"""Doors for CAT tools that speak someone else's protocol: no plugin needed on their side.

``tmserver``  the tmserver/amaGama protocol that Weblate's "tmserver" machinery and Virtaal speak;
``mymemory``  a MyMemory-shaped lookup, for tools that let a user set the MyMemory URL;
``feeds``     stable export URLs with strong ETags (OmegaT team projects poll them).

Each module is a thin blueprint over ``tm.lookup`` / ``tm.service``; the protocol details
(language spellings, percent-encoding, response shapes) live here and nowhere else.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the CAT-tool blueprints (idempotent, so tests may call it on a wired app)."""
    from cattools.feeds import bp as feeds_bp
    from cattools.mymemory import bp as mymemory_bp
    from cattools.tmserver import bp as tmserver_bp

    for blueprint in (tmserver_bp, mymemory_bp, feeds_bp):
        if blueprint.name not in app.blueprints:
            app.register_blueprint(blueprint)

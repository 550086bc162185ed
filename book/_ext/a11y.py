"""Sphinx extension for the course website: fixes to the theme for WCAG 2.1 AA (issue 20).

pydata-sphinx-theme 0.17.1 renders a top navigation bar (``#pst-header``) of its own, which
sphinx-book-theme 1.3.0 does not use: it holds a hidden menu button, a second Search button and a
hidden contents button. Both themes' scripts wire their sidebar toggles with
``document.querySelector(".primary-toggle")`` (and ``.secondary-toggle``), which finds the hidden
buttons in that bar first, so the visible chapter-menu and contents buttons of the article header
do nothing (pydata-sphinx-theme issue 2451, sphinx-book-theme issue 988). The templates in
``a11y_templates/`` drop that bar, so the first toggle of each kind is the visible one and the
themes' own code wires it; they also name the Search button by its visible text and put the site
title in a landmark. ``a11y_static/a11y.css`` wraps long lines of code instead of scrolling them
sideways and styles the play control of the animations.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def add_paths(app, config) -> None:
    # Ahead of the theme's templates, so that these override the theme's files of the same name.
    config.templates_path = [str(HERE / "a11y_templates"), *config.templates_path]
    config.html_static_path = [*config.html_static_path, str(HERE / "a11y_static")]


def setup(app):
    app.connect("config-inited", add_paths)
    app.add_css_file("a11y.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}

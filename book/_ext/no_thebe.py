"""Sphinx extension for the course website: drop Thebe's scripts from every page.

Jupyter Book 1.x always loads sphinx-thebe, whose configuration script lands twice in each
page (the browser reports "Identifier 'THEBE_JS_URL' has already been declared") and which
would fetch Thebe from a CDN when activated. The site does not offer live code (its launch
buttons open Colab or Binder instead), so the pages carry none of it.
"""

from __future__ import annotations


def _is_thebe(script) -> bool:
    filename = str(getattr(script, "filename", "") or "")
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return "thebe" in filename or "THEBE_JS_URL" in body


def drop_thebe_scripts(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def setup(app):
    app.connect("html-page-context", drop_thebe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

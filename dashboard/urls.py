"""Local URLs for the app's screens, keeping the viewer's language."""

from __future__ import annotations


def link(base_path: str, path: str, lang: str, **params: str) -> str:
    """A local URL keeping the language: ``/overdue?unit=500151&lang=en``."""
    query = dict(params)
    if lang == "en":
        query["lang"] = "en"
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return base_path.rstrip("/") + path + (f"?{qs}" if qs else "")

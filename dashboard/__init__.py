"""The Dash app: factory, pages, components, callbacks, assets. Imports ``layers`` and ``data``."""

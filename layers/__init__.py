"""Turns stored data into map layers (GeoJSON/geobuf payloads plus their hideout), per scope and version.

No Dash import. Imports ``data`` only.
"""

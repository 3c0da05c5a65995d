"""The geobuf encoding of layers: an empty collection is still a FeatureCollection when decoded."""

from __future__ import annotations

import geobuf

from layers.encoding import geobuf_bytes


def test_an_empty_collection_decodes_as_an_empty_feature_collection() -> None:
    # (the browser's decoder reads the same field; tests/browser/test_duty.py checks it in Chromium)
    assert geobuf.decode(geobuf_bytes([])) == {"type": "FeatureCollection", "features": []}


def test_a_collection_with_features_is_unchanged() -> None:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [106.5, 29.5]},
        "properties": {"id": 7, "name": "沙坝村"},
    }
    decoded = geobuf.decode(geobuf_bytes([feature]))
    assert decoded["type"] == "FeatureCollection"
    assert [f["properties"] for f in decoded["features"]] == [{"id": 7, "name": "沙坝村"}]
    assert decoded["features"][0]["geometry"]["coordinates"] == [106.5, 29.5]

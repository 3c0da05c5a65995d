"""The one searchable select of the screens (filters, the action form, the duty desk's forms): type to
find, clear with ×, nothing found shown as ``—``, its drop-down above overlays (``z``)."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc


def search_select(
    id_: str,
    data: list[dict[str, str]],
    placeholder: str = "",
    value: str | None = None,
    *,
    class_name: str,
    label: str | None = None,
    size: str | None = None,
    z: int = 3000,
) -> Any:
    extra: dict[str, Any] = {}
    if label is not None:
        extra["label"] = label
    if size is not None:
        extra["size"] = size
    return dmc.Select(
        id=id_,
        data=data,
        value=value,
        placeholder=placeholder,
        searchable=True,
        clearable=True,
        allowDeselect=True,
        nothingFoundMessage="—",
        comboboxProps={"zIndex": z},
        className=class_name,
        **extra,
    )

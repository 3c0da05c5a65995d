"""The wall (``/``): the big screen — KPIs, map, alerts, rankings, ticker. ``page.PAGE`` is the screen;
its payload comes from :mod:`layers.wall_payload`.

No screen imports another; shared parts live in :mod:`dashboard.components`."""

/*
 * gridcc map: dash-leaflet style/point/popup functions (window.gridcc.map) and the map's clientside
 * callbacks (window.dash_clientside.gridcc).
 *
 * Safety rule: every string from the server may come from a department feed. It is put into the page
 * with textContent only (never innerHTML), so "<img src=x onerror=alert(1)>" shows as those characters.
 */
(function () {
    "use strict";

    // ---------------------------------------------------------------- DOM helpers (text only)
    function el(tag, className, text) {
        const node = document.createElement(tag);
        if (className) node.className = className;
        if (text !== undefined && text !== null) node.textContent = String(text);
        return node;
    }

    function row(parent, label, value, className) {
        if (value === undefined || value === null || value === "") return;
        const line = el("div", "popup-row" + (className ? " " + className : ""));
        line.appendChild(el("span", "popup-label", label));
        line.appendChild(el("span", "popup-value", value));
        parent.appendChild(line);
    }

    // Leaflet asks a removed map for its pane's position when a layer's data or an animation lands after
    // the person has left the screen (a new case bumps the layers just as a link is clicked): "Cannot
    // read properties of undefined (reading '_leaflet_pos')". A removed map answers (0, 0) instead.
    let calmed = false;
    function calmRemovedMaps() {
        if (calmed || !window.L || !window.L.Map) return;
        calmed = true;
        const position = window.L.Map.prototype._getMapPanePos;
        window.L.Map.prototype._getMapPanePos = function () {
            return this._mapPane ? position.call(this) : window.L.point(0, 0);
        };
    }

    function fmtTime(epoch, hideout) {
        if (epoch === undefined || epoch === null) return "";
        const lang = (hideout && hideout.strings && hideout.strings.intl_locale) || "zh-CN";
        try {
            return new Date(epoch * 1000).toLocaleString(lang, {
                timeZone: (hideout && hideout.tz) || "Asia/Shanghai",
                month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
            });
        } catch (e) {
            return new Date(epoch * 1000).toISOString();
        }
    }

    function strings(context) {
        return (context && context.hideout && context.hideout.strings) || {states: {}};
    }

    // ---------------------------------------------------------------- units (fill by open cases)
    function unitCounts(feature, hideout) {
        const counts = (hideout && hideout.counts) || {};
        return counts[feature.properties.code] || {open: 0, overdue: 0};
    }

    function unitStyle(feature, context) {
        const h = context.hideout || {};
        const c = unitCounts(feature, h);
        const breaks = h.breaks || [0];
        let k = 0;
        for (let i = 0; i < breaks.length; i++) if (c.open >= breaks[i]) k = i;
        const late = c.overdue > 0;
        return {
            className: "unit unit-" + h.level + (late ? " has-overdue" : ""),
            fillColor: (h.colours || ["#1a2436"])[k],
            fillOpacity: 0.62,
            color: late ? h.overdue || "#ff5a5f" : "#6f8bbd",
            weight: late ? 2.5 : 1.2,
            opacity: 0.95,
        };
    }

    function unitEach(feature, layer, context) {
        const h = context.hideout || {};
        const s = h.strings || {};
        const p = feature.properties;
        const c = unitCounts(feature, h);
        const box = el("div", "unit-label-inner");
        box.appendChild(el("div", "name", p.name));
        if (c.open > 0) {
            let text = s.open + " " + c.open;
            if (c.overdue > 0) text += " · " + s.overdue + " " + c.overdue;
            box.appendChild(el("div", "counts" + (c.overdue > 0 ? " has-overdue" : ""), text));
        }
        // which label wins where labels collide: units with overdue cases, then the busiest
        box.dataset.priority = String((c.overdue > 0 ? 1e7 : 0) + (c.open || 0));
        layer.bindTooltip(box, {
            permanent: true,
            direction: "center",
            className: "unit-label unit-label-" + h.level,
            interactive: false,
            opacity: 1,
        });
        const at = Array.isArray(p.label) && p.label.length === 2 ? L.latLng(p.label[1], p.label[0]) : null;
        layer.on("add", function () {
            if (at) layer.openTooltip(at);
            watchLabels(layer._map);
        });
    }

    // ---------------------------------------------------------------- label collisions
    // A dense city puts hundreds of unit names in one view: where two shown labels would overlap, the
    // one with lower priority is hidden (visibility only: the CSS of the level of detail still decides
    // which levels are shown). Runs after every move or zoom and after layers are (re)drawn.
    // Side by side, two names need a gap (GAP_X px between their boxes, which are as wide as the text):
    // edge to edge they read as one run of text ("平滩镇石鱼镇"). One above the other, their line boxes
    // are taller than the glyphs, so a few pixels of overlap (SLACK_Y) still read apart.
    const GAP_X = 4;
    const SLACK_Y = 5;

    function overlaps(a, b) {
        return a.left < b.right + GAP_X && b.left < a.right + GAP_X && a.top + SLACK_Y < b.bottom && b.top + SLACK_Y < a.bottom;
    }

    function declutter(map) {
        const container = map && map.getContainer && map.getContainer();
        if (!container || !container.isConnected) return;
        const labels = container.querySelectorAll(".leaflet-tooltip.unit-label");
        const items = [];
        labels.forEach(function (label) {
            label.style.visibility = "";
        });
        labels.forEach(function (label) {
            const r = label.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) return; // not shown at this level of detail
            const inner = label.querySelector(".unit-label-inner");
            items.push({label: label, r: r, p: Number((inner && inner.dataset.priority) || 0)});
        });
        items.sort(function (a, b) {
            return b.p - a.p;
        });
        const placed = [];
        items.forEach(function (item) {
            for (let i = 0; i < placed.length; i++) {
                if (overlaps(item.r, placed[i])) {
                    item.label.style.visibility = "hidden";
                    return;
                }
            }
            placed.push(item.r);
        });
    }

    function watchLabels(map) {
        if (!map || map._gridccLabels) {
            if (map) map._gridccLabels.schedule();
            return;
        }
        let timer = null;
        const schedule = function () {
            if (timer) clearTimeout(timer);
            timer = setTimeout(function () {
                timer = null;
                declutter(map);
            }, 120);
        };
        map._gridccLabels = {schedule: schedule};
        map.on("moveend zoomend", schedule);
        // the level-of-detail class on the map's wrapper decides which labels show: re-run on a change
        const wrap = map.getContainer().closest(".gridcc-map-wrap");
        if (wrap && window.MutationObserver) {
            new MutationObserver(schedule).observe(wrap, {attributes: true, attributeFilter: ["class"]});
            // labels come and go when a layer is redrawn, and a label's text grows when its counts come
            // ("立灯村" + "在办 2 · 超期 1"): decide again once either has happened
            const pane = map.getPane("tooltipPane");
            if (pane) new MutationObserver(schedule).observe(pane, {childList: true, subtree: true, characterData: true});
        }
        schedule();
    }

    // ---------------------------------------------------------------- cases
    function caseColour(p, palette) {
        if (p.overdue) return palette.overdue;
        if (p.due_soon) return palette.due_soon;
        return palette[p.status] || palette.accepted;
    }

    // A case with no point of its own comes at its grid's or community's label point, marked
    // ``approx`` with that level (layers/case_place.py): drawn as a dashed ring, said so in the popup.
    const APPROX_LEVELS = ["grid", "community"];

    function approxLevel(p) {
        return APPROX_LEVELS.indexOf(p.approx) >= 0 ? p.approx : null;
    }

    function casePopup(p, context) {
        const s = strings(context);
        const box = el("div", "gridcc-popup case");
        const head = el("div", "popup-title", p.title || s.case_no + " " + p.id);
        box.appendChild(head);
        const flags = el("div", "popup-flags");
        if (p.overdue) flags.appendChild(el("span", "flag overdue", s.overdue));
        else if (p.due_soon) flags.appendChild(el("span", "flag due-soon", s.due_soon));
        if (p.supervision === "yellow") flags.appendChild(el("span", "flag card-yellow", s.supervision_yellow));
        if (p.supervision === "red") flags.appendChild(el("span", "flag card-red", s.supervision_red));
        const approx = approxLevel(p);
        if (approx) flags.appendChild(el("span", "flag approx", s["approx_" + approx]));
        if (flags.childNodes.length) box.appendChild(flags);
        row(box, s.status, (s.states || {})[p.status] || p.status);
        row(box, s.category, p.category);
        row(box, s.address, p.address);
        if (approx) row(box, s.location, s["approx_" + approx + "_note"], "approx-note");
        row(box, s.deadline, fmtTime(p.deadline, context.hideout));
        row(box, s.held_at, s["level_" + p.level]);
        const link = el("a", "popup-link", s.open_case);
        link.href = "/cases/" + encodeURIComponent(String(Number(p.id)));
        box.appendChild(link);
        return box;
    }

    // Markers are sized in screen pixels; a wall taller than 1080 px (4K at 3840×2160) draws them larger, so
    // they read from as far away as on a 1080p wall (up to twice the size).
    function screenScale() {
        return Math.min(2, Math.max(1, (window.innerHeight || 1080) / 1080));
    }

    // How a case marker is drawn. Also the cases layer's ``style``: dash-leaflet gives a clustered GeoJSON
    // a default style (thin translucent #222 outline) that would otherwise override the marker's own.
    function caseMarkerStyle(p, h) {
        const colour = caseColour(p, h.cases || {});
        const k = screenScale();
        if (approxLevel(p)) {
            // a hollow dashed ring in the state colour: "about here"
            return {radius: (p.overdue ? 9.5 : 8) * k, color: colour, weight: 3 * k, opacity: 1, dashArray: 4 * k + " " + 3 * k, fillColor: colour, fillOpacity: 0.15};
        }
        const card = p.supervision === "red" ? "#ff1f1f" : p.supervision === "yellow" ? "#ffd21f" : "#0b1220";
        return {
            radius: (p.overdue ? 8.5 : 7) * k,
            color: card,
            weight: (p.supervision && p.supervision !== "none" ? 3 : 1.5) * k,
            opacity: 1,
            fillColor: colour,
            fillOpacity: 0.95,
        };
    }

    function caseStyle(feature, context) {
        return caseMarkerStyle(feature.properties, context.hideout || {});
    }

    function casePoint(feature, latlng, context) {
        calmRemovedMaps();
        const p = feature.properties;
        const h = context.hideout || {};
        const s = strings(context);
        const approx = approxLevel(p);
        const options = caseMarkerStyle(p, h);
        // an approximate case sits on its unit's label point, under the unit's name: drawn above labels
        options.pane = (approx && h.approx_pane) || context.pane || "markerPane";
        options.className = "case-marker case-" + Number(p.id) + (p.overdue ? " overdue" : "") + (approx ? " case-approx approx-" + approx : "");
        const marker = L.circleMarker(latlng, options);
        const tip = (p.title || "#" + p.id) + (approx ? " · " + s["approx_" + approx] : "");
        marker.bindTooltip(el("span", "", tip), {direction: "top", className: "case-tip"});
        marker.bindPopup(function () {
            return casePopup(p, context);
        }, {className: "gridcc-leaflet-popup", maxWidth: 380});
        return marker;
    }

    // A cluster bubble: the count, and the overdue among them in a red badge.
    // Bubbles are drawn above the unit names (the pane ``approx_pane``, over Leaflet's tooltip pane): a
    // count half hidden under a street's name cannot be read.
    function clusterMarker(latlng, n, countText, late, extraClass, hideout) {
        const h = hideout || {};
        const pane = h.approx_pane;
        const base = n < 10 ? 38 : n < 100 ? 46 : n < 1000 ? 54 : 62;
        // larger on a taller screen, but no wider than the clusterer's radius (neighbours never overlap):
        // ``cluster_radius`` of the hideout, layers.case_clusters.RADIUS_PX on the server
        const size = Math.min(Math.round(base * screenScale()), Math.max(base, h.cluster_radius));
        const inner = el("div", "cluster-inner");
        inner.appendChild(el("span", "cluster-count", countText));
        if (late > 0) inner.appendChild(el("span", "cluster-late", late));
        return L.marker(latlng, {
            icon: L.divIcon({
                html: inner,
                className: "case-cluster" + extraClass + (late > 0 ? " has-overdue" : ""),
                iconSize: L.point(size, size),
            }),
            pane: pane || "markerPane",
        });
    }

    function caseCluster(feature, latlng, index, context) {
        const p = feature.properties;
        const n = p.point_count;
        let late = 0;
        if (index && n <= 5000) {
            const leaves = index.getLeaves(p.cluster_id, Infinity);
            for (let i = 0; i < leaves.length; i++) if (leaves[i].properties.overdue) late++;
        }
        return clusterMarker(latlng, n, p.point_count_abbreviated, late, "", context.hideout);
    }

    function abbreviate(n) {
        if (n >= 10000) return Math.round(n / 1000) + "k";
        if (n >= 1000) return Math.round(n / 100) / 10 + "k";
        return String(n);
    }

    // A cluster made on the server (a city-sized scope below the grid zooms): drawn like the browser's
    // clusters; a click zooms in on it.
    function caseAgg(feature, latlng, context) {
        const p = feature.properties;
        const s = strings(context);
        const n = Number(p.count) || 0;
        const late = Number(p.overdue) || 0;
        const marker = clusterMarker(latlng, n, abbreviate(n), late, " case-agg", context.hideout);
        let tip = s.open + " " + n;
        if (late > 0) tip += " · " + s.overdue + " " + late;
        marker.bindTooltip(el("span", "", tip), {direction: "top", className: "case-tip"});
        marker.on("click", function () {
            const map = marker._map;
            if (map) map.setView(latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
        });
        return marker;
    }

    // ---------------------------------------------------------------- alerts
    function signalHex(p, h) {
        return ((h && h.signals) || {})[p.colour] || "#c9d1e0";
    }

    function alertStyle(feature, context) {
        const p = feature.properties;
        const c = signalHex(p, context.hideout);
        if (p.call) {
            // 预警叫应: a called grid — silent ones flash in the warning's colour, answered ones are green
            const silent = p.call === "silent";
            return {
                color: silent ? c : "#3ddc84",
                weight: silent ? 3 : 0.6,
                fillColor: silent ? c : "#3ddc84",
                fillOpacity: silent ? 0.8 : 0.22,
                className: "call-grid " + (silent ? "call-silent" : "call-answered"),
            };
        }
        return {
            color: c,
            weight: 3,
            fillColor: c,
            fillOpacity: 0.16,
            dashArray: p.state === "new" ? "10 6" : null,
            className: "alert-area" + (p.state === "new" ? " alert-new" : ""),
        };
    }

    function alertPoint(feature, latlng, context) {
        calmRemovedMaps();
        const p = feature.properties;
        const c = signalHex(p, context.hideout);
        return L.circleMarker(latlng, {
            radius: 12 * screenScale(),
            color: "#0b1220",
            weight: 2,
            fillColor: c,
            fillOpacity: 0.95,
            pane: context.pane || "markerPane",
            className: "alert-point" + (p.state === "new" ? " alert-new" : ""),
        });
    }

    function alertPopup(p, context) {
        const s = strings(context);
        const box = el("div", "gridcc-popup alert");
        const head = el("div", "popup-title", p.headline || p.event);
        head.style.borderLeftColor = signalHex(p, context.hideout);
        box.appendChild(head);
        const flags = el("div", "popup-flags");
        if (p.colour) flags.appendChild(el("span", "flag signal-" + p.colour, s["signal_" + p.colour] || p.colour));
        if (p.state) flags.appendChild(el("span", "flag state", s["alert_" + p.state] || p.state));
        box.appendChild(flags);
        row(box, s.address, p.area_desc);
        row(box, s.onset, fmtTime(p.onset, context.hideout));
        row(box, s.expires, fmtTime(p.expires, context.hideout));
        if (p.calls_total && context.hideout && context.hideout.calls_url) {
            // 预警叫应: how many covered grids answered, and the duty officer's page of the silent ones
            const link = el("a", "popup-calls", s.call_page_title + " · " +
                s.call_ticker_count.replace("{answered}", p.calls_answered).replace("{total}", p.calls_total));
            link.href = context.hideout.calls_url + p.id;
            box.appendChild(link);
        }
        const grids = Array.isArray(p.grids) ? p.grids : [];
        if (grids.length) {
            box.appendChild(el("div", "popup-subtitle", s.covered_grids + "（" + (p.grid_count || grids.length) + "）"));
            const list = el("ul", "popup-grids");
            grids.forEach(function (g) {
                const item = el("li", "", g.name + " " + g.code);
                (g.workers || []).forEach(function (w) {
                    item.appendChild(el("div", "worker", (s["role_" + w.role] || w.role) + " " + w.name + " " + w.phone));
                });
                list.appendChild(item);
            });
            box.appendChild(list);
            if (p.grid_count > grids.length) box.appendChild(el("div", "popup-more", s.more_grids.replace("{n}", p.grid_count)));
        }
        return box;
    }

    function alertEach(feature, layer, context) {
        const p = feature.properties;
        const s = strings(context);
        if (p.call) {
            const said = p.call === "silent" ? s.call_silent : ((s.call_states || {})[p.state] || p.state);
            layer.bindTooltip(el("span", "", p.name + " · " + said), {direction: "top", className: "alert-tip", sticky: true});
            return;
        }
        let tip = (s["signal_" + p.colour] || "") + " " + (p.event || p.headline || "");
        if (p.calls_total) tip += " · " + s.call_ticker_count.replace("{answered}", p.calls_answered).replace("{total}", p.calls_total);
        layer.bindTooltip(el("span", "", tip), {
            direction: "top",
            className: "alert-tip",
            sticky: true,
        });
        layer.bindPopup(function () {
            return alertPopup(p, context);
        }, {className: "gridcc-leaflet-popup", maxWidth: 420});
    }

    // ---------------------------------------------------------------- risks
    function riskPoint(feature, latlng, context) {
        calmRemovedMaps();
        const p = feature.properties;
        const s = strings(context);
        const marker = L.marker(latlng, {
            icon: L.divIcon({
                html: el("div", "risk-diamond"),
                className: "risk-marker risk-" + p.level + (p.overdue ? " overdue" : ""),
                iconSize: L.point(22 * screenScale(), 22 * screenScale()),
            }),
            pane: context.pane || "markerPane",
        });
        marker.bindTooltip(el("span", "", p.title), {direction: "top", className: "risk-tip"});
        marker.bindPopup(function () {
            const box = el("div", "gridcc-popup risk");
            box.appendChild(el("div", "popup-title", p.title));
            const flags = el("div", "popup-flags");
            flags.appendChild(el("span", "flag risk-" + p.level, s["risk_" + p.level] || p.level));
            if (p.overdue) flags.appendChild(el("span", "flag overdue", s.overdue));
            box.appendChild(flags);
            row(box, s.category, s["risk_" + p.kind] || p.kind);
            row(box, s.owner, p.owner);
            row(box, s.close_by, fmtTime(p.due, context.hideout));
            return box;
        }, {className: "gridcc-leaflet-popup", maxWidth: 360});
        return marker;
    }

    // ---------------------------------------------------------------- hotspots (类案)
    function hotspotPoint(feature, latlng, context) {
        calmRemovedMaps();
        const p = feature.properties;
        const s = strings(context);
        const n = Number(p.count) || 0;
        const size = Math.round((n < 10 ? 44 : n < 100 ? 54 : 64) * screenScale());
        const ring = el("div", "hotspot-ring", String(n));
        const marker = L.marker(latlng, {
            icon: L.divIcon({
                html: ring,
                className: "hotspot-marker trend-" + (p.trend || "flat"),
                iconSize: L.point(size, size),
            }),
            pane: context.pane || "markerPane",
            keyboard: false,
        });
        marker.bindTooltip(el("span", "", p.category + " · " + p.place + " · " + n), {direction: "top", className: "hotspot-tip"});
        marker.bindPopup(function () {
            const box = el("div", "gridcc-popup hotspot");
            box.appendChild(el("div", "popup-title", p.category + " · " + p.place));
            row(box, s.hotspot_cases, String(n) + " (" + (p.recent || 0) + "/" + (p.previous || 0) + ")");
            const link = el("a", "popup-link", s.hotspot_open);
            link.href = context.hideout.hotspot_url + encodeURIComponent(p.key);
            box.appendChild(link);
            return box;
        }, {className: "gridcc-leaflet-popup", maxWidth: 360});
        return marker;
    }

    function noop() {}

    window.gridcc = Object.assign(window.gridcc || {}, {
        map: {unitStyle, unitEach, casePoint, caseStyle, caseCluster, caseAgg, alertStyle, alertPoint, alertEach, riskPoint, hotspotPoint, noop},
    });

    // ---------------------------------------------------------------- clientside callbacks
    const LEVELS = ["district", "street", "community", "grid"];
    const MAP_LAYERS = ["units", "cases", "alerts", "risks"]; // dashboard/components/map.py MAP_LAYERS
    const inflight = {};
    const pending = {}; // a map whose last refresh failed: the next tick retries even if versions are equal

    function noUpdate() {
        return window.dash_clientside.no_update;
    }

    async function fetchTimeout(url, ms, init) {
        const ctrl = new AbortController();
        const timer = setTimeout(function () {
            ctrl.abort();
        }, ms);
        try {
            return await fetch(url, Object.assign({signal: ctrl.signal, credentials: "same-origin"}, init || {}));
        } finally {
            clearTimeout(timer);
        }
    }

    // Load a URL into the browser cache before handing it to a layer: the layer then reads it at once,
    // and a failed fetch (server restarting, network down) never reaches the layer.
    async function prefetch(url) {
        const r = await fetchTimeout(url, 20000);
        if (!r.ok) throw new Error(url + ": HTTP " + r.status);
        await r.arrayBuffer();
        return url;
    }

    async function fetchJSON(url) {
        const r = await fetchTimeout(url, 20000);
        if (!r.ok) throw new Error(url + ": HTTP " + r.status);
        return r.json();
    }

    function sameVersions(a, b) {
        a = a || {};
        b = b || {};
        const keys = Object.keys(Object.assign({}, a, b));
        for (let i = 0; i < keys.length; i++) if (a[keys[i]] !== b[keys[i]]) return false;
        return true;
    }

    // The map's data URLs as the server wrote them into the map's config (dashboard/urls.py
    // Urls.layers): ``{level}`` filled in here, the query added by the caller.
    function layerUrl(config, name, level) {
        return config.urls[name].replace("{level}", level || "");
    }

    function query(params) {
        const parts = [];
        Object.keys(params || {}).sort().forEach(function (k) {
            if (params[k] !== "" && params[k] !== null && params[k] !== undefined) {
                parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
            }
        });
        return parts.join("&");
    }

    function viewBox(bounds) {
        // dash-leaflet reports bounds as [[south, west], [north, east]]
        if (Array.isArray(bounds) && bounds.length === 2) {
            return {west: bounds[0][1], south: bounds[0][0], east: bounds[1][1], north: bounds[1][0]};
        }
        if (bounds && bounds._southWest) {
            return {west: bounds._southWest.lng, south: bounds._southWest.lat, east: bounds._northEast.lng, north: bounds._northEast.lat};
        }
        return null;
    }

    function snapped(box, snap) {
        const down = function (v) { return (Math.floor(v / snap) * snap).toFixed(4); };
        const up = function (v) { return (Math.ceil(v / snap) * snap).toFixed(4); };
        return [down(Math.max(box.west, -180)), down(Math.max(box.south, -90)), up(Math.min(box.east, 180)), up(Math.min(box.north, 90))].join(",");
    }

    function levelAt(zoom, lod) {
        if (zoom >= lod.grid) return "grid";
        if (zoom >= lod.community) return "community";
        if (zoom >= lod.street) return "street";
        return "district";
    }

    // How much coarser than the grid snap each level's viewport bbox is snapped (levels drawn at lower
    // zooms have larger views, so a coarser snap keeps their URL across pans).
    const SNAP_FACTOR = {street: 10, community: 2.5, grid: 1};
    const CASE_SNAP_FACTOR = {district: 25, street: 10, community: 2.5, grid: 2.5};
    const plans = {}; // map name -> {v, promise}: the scope's lod.json for one units version

    // The scope's level-of-detail plan ({sizes, bbox: [levels by viewport]}), fetched once per units
    // version; null when it could not be read (the caller keeps what it has and retries).
    // The page may come with the plan of its units version (config.first: dashboard/routes.py
    // first_map_state): then no request.
    async function lodPlan(config, v) {
        const name = config.map;
        let entry = plans[name];
        if (!entry || entry.v !== v) {
            const first = config.first && config.first.v === v ? config.first.plan : null;
            const promise = first ? Promise.resolve(first) : fetchJSON(layerUrl(config, "lod") + "?v=" + v);
            entry = plans[name] = {v: v, promise: promise};
        }
        try {
            const plan = await entry.promise;
            return plan && Array.isArray(plan.bbox) ? plan : null;
        } catch (e) {
            if (plans[name] === entry) delete plans[name];
            return null;
        }
    }

    function bboxOf(url) {
        if (!url) return null;
        try {
            return new URL(url, window.location.href).searchParams.get("bbox");
        } catch (e) {
            return null;
        }
    }

    // Swap in the URLs that changed, each only after it loaded; on failure keep the old one and retry.
    async function swap(mapName, wanted, current) {
        const results = await Promise.all(wanted.map(function (url, i) {
            if (url === current[i]) return Promise.resolve(noUpdate());
            if (url === null) return Promise.resolve(null);
            return prefetch(url).catch(function () {
                pending[mapName] = true;
                return noUpdate();
            });
        }));
        return results;
    }

    // The map's data layers (cases, server clusters, alerts, risks, 类案), each handed its new URL on its
    // own, as soon as that URL has loaded, through set_props: not as the result of the ``layers``
    // callback. Dash throws away the result of a callback still running when the same callback is
    // asked again (a new versions store: on a busy district every second or so, by the feeds' health
    // alone), so a result that had to wait for the slowest of five fetches was often dropped and the
    // new case's marker waited for a quiet moment; and one layer no longer waits for another. A URL
    // wanted again while it loads joins that load (one fetch); a layer never goes back to a URL older
    // than the one it was last handed (each wanted URL is numbered in the order first wanted).
    const LAYER_PARTS = ["cases", "cases-agg", "alerts", "risks", "hotspots"];
    const loading = {}; // url -> the prefetch promise, while it is out
    const handed = {}; // "map|part" -> {url, seq}: the newest URL handed to that layer (or being loaded)
    let wantSeq = 0;

    function loadOnce(url) {
        if (!loading[url]) {
            loading[url] = prefetch(url).finally(function () {
                delete loading[url];
            });
        }
        return loading[url];
    }

    function handOver(mapName, ids, wanted, current) {
        const now = [];
        wanted.forEach(function (url, i) {
            const slot = mapName + "|" + LAYER_PARTS[i];
            const last = handed[slot];
            if (last && last.url === url) {
                now.push(noUpdate());
                return;
            }
            const seq = ++wantSeq;
            if (url === current[i]) { // already drawn (and anything older still loading stays out)
                handed[slot] = {url: url, seq: seq, applied: seq};
                now.push(noUpdate());
                return;
            }
            handed[slot] = {url: url, seq: seq, applied: (last && last.applied) || 0};
            if (url === null) {
                handed[slot].applied = seq;
                now.push(null);
                return;
            }
            now.push(noUpdate());
            loadOnce(url).then(function () {
                const entry = handed[slot];
                if (!entry || entry.applied > seq) return; // a newer URL reached this layer first
                entry.applied = seq;
                try {
                    window.dash_clientside.set_props(ids[i], {url: url});
                } catch (e) {
                    // the screen is gone (another page now): nothing to draw
                }
            }, function () {
                if (handed[slot] && handed[slot].seq === seq) delete handed[slot]; // asked again next time
                pending[mapName] = true;
            });
        });
        return now;
    }

    // A tick without any answer this many times in a row marks the screen's data as stopped.
    const UNREACHABLE_TICKS = 10;
    const failures = {}; // map name -> ticks in a row without an answer

    // The long poll (dashboard/version_watch.py): the tick's request, asking the server to answer only
    // when the versions differ from the ones this map has (or after LONG_POLL_S). While one is out the
    // ticks send nothing (unless a layer failed and wants a retry: pending), so a wall holds one request
    // and hears of a change at once. A server that holds no more waits answers "full" at once: then
    // plain ticks for TICK_ONLY_MS before trying again.
    const LONG_POLL_S = 25;
    const TICK_ONLY_MS = 30000;
    const tickOnlyUntil = {}; // map name -> Date.now() before which the map ticks without waiting

    // The same string as layers.versions.token: "layer:version" pairs sorted by layer, comma-separated.
    function versionsToken(v) {
        return Object.keys(v || {}).sort().map(function (k) { return k + ":" + v[k]; }).join(",");
    }

    function versionsUrl(store, name) {
        const v = store && store.versions;
        const waits = !!(v && Object.keys(v).length && !store.down && !pending[name] &&
            !(tickOnlyUntil[name] > Date.now()));
        if (!waits) return {url: store.url, ms: 4000, waits: false};
        const sep = store.url.indexOf("?") < 0 ? "?" : "&";
        const url = store.url + sep + "wait=" + LONG_POLL_S + "&since=" + encodeURIComponent(versionsToken(v));
        return {url: url, ms: (LONG_POLL_S + 10) * 1000, waits: true};
    }

    const polling = {}; // map name -> a long poll is out
    const latest = {}; // map name -> the versions store as the last tick saw it
    const storeIds = {}; // map name -> the id of its versions store (a map's, or a page's own: /feeds)

    // What an answer of /api/versions makes of the map's versions store: a new store object, or
    // noUpdate when nothing changed.
    async function heard(name, store, request) {
        try {
            const r = await request;
            failures[name] = 0;
            if (r.headers.get("X-Gridcc-Wait") === "full") tickOnlyUntil[name] = Date.now() + TICK_ONLY_MS;
            // the session ended (expired, signed out elsewhere, account disabled): reload, so the
            // server sends this screen to the sign-in page (a wall link signs a wall in again)
            if (r.status === 401) { window.location.reload(); return noUpdate(); }
            // the server cannot reach Redis: nothing new reaches any screen until it can; mark
            // the store down (once) so that a screen can say so (the wall's banner)
            if (r.status === 503) {
                const body = await r.json().catch(function () { return {}; });
                if (body.redis !== "down" || (store && store.down)) return noUpdate();
                return Object.assign({map: name}, store || {}, {down: true, at: Date.now()});
            }
            if (!r.ok) return noUpdate();
            const versions = await r.json();
            const back = !!(store && store.down);
            const retry = !!pending[name];
            if (store && !back && sameVersions(store.versions, versions) && !retry) return noUpdate();
            pending[name] = false;
            return {map: name, base: store && store.base, url: store && store.url, versions: versions, at: Date.now(), down: false, retry: retry};
        } catch (e) {
            // no answer at all (the web server gone, or hung on a Redis that does not answer):
            // after UNREACHABLE_TICKS in a row, nothing is flowing either; say so the same way
            failures[name] = (failures[name] || 0) + 1;
            if (failures[name] < UNREACHABLE_TICKS || (store && store.down)) return noUpdate();
            return Object.assign({map: name}, store || {}, {down: true, at: Date.now()});
        }
    }

    // The long poll, outside Dash's callbacks: its answer goes into the versions store through
    // set_props, compared with the store as it is then (a plain tick may have moved it meanwhile). The
    // store is the one the tick wrote (a map's, or a page's own such as /feeds'). A page left while the
    // poll was out has no store any more: set_props then throws in Dash, and the answer is dropped.
    // After an answer that moved the store, the next wait goes out at once (not on the next tick): on a
    // busy district the versions move every second or so, and a change heard a tick late is a marker
    // drawn a tick late. A wait answered with nothing new, or not at all, leaves it to the tick.
    async function longPoll(name, ask) {
        polling[name] = true;
        let again = false;
        try {
            const request = fetchTimeout(ask.url, ask.ms, {cache: "no-store"});
            await request.catch(function () { return null; });
            const store = latest[name];
            const next = await heard(name, store, request);
            if (next !== noUpdate()) {
                try {
                    window.dash_clientside.set_props(storeIds[name] || {part: "versions", map: name}, {data: next});
                    latest[name] = next;
                    again = true;
                } catch (e) {
                    // the screen is gone (another page now): nothing to tell
                }
            }
        } finally {
            polling[name] = false;
        }
        if (again) {
            const nextAsk = versionsUrl(latest[name], name);
            if (nextAsk.waits && !polling[name]) longPoll(name, nextAsk);
        }
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        gridcc: {
            // 1 s tick: one request for every layer version; a new store object only when one changed
            // (or when the last refresh failed, or Redis went away or came back: ``down``). Errors are
            // swallowed: the interval keeps ticking; a 401 (no session any more) reloads the page.
            // Where the server holds waits, the request is a long poll sent outside this callback
            // (longPoll): a callback still running would hold back every callback that reads the
            // store (Dash waits for its inputs), so panning the map would wait for the next change.
            tick: async function (n, store) {
                const name = (store && store.map) || "map";
                latest[name] = store;
                const context = window.dash_clientside.callback_context;
                const out = context && context.outputs_list;
                if (out && out.id) storeIds[name] = out.id;
                const ask = versionsUrl(store, name);
                if (ask.waits) {
                    if (!polling[name]) longPoll(name, ask);
                    return noUpdate();
                }
                if (inflight[name] || (polling[name] && !pending[name])) return noUpdate();
                inflight[name] = true;
                try {
                    return await heard(name, store, fetchTimeout(ask.url, ask.ms, {cache: "no-store"}));
                } finally {
                    inflight[name] = false;
                }
            },

            // The versions the map's own layers follow, out of the versions store: a new object only
            // when one of them moved (or a layer's last load failed: retry), so that a move of the
            // feeds' health, the KPIs or the loop runs none of the map's callbacks (each run costs the
            // page's main thread, and on a busy district those move every second or so).
            layerVersions: function (store, current) {
                if (!store || !store.versions) return noUpdate();
                const sub = {};
                MAP_LAYERS.forEach(function (k) {
                    if (k in store.versions) sub[k] = store.versions[k];
                });
                if (current && !store.retry && sameVersions(current.versions, sub)) return noUpdate();
                return {map: store.map || (current && current.map) || "map", versions: sub, at: Date.now()};
            },

            // Level of detail by zoom: which unit levels are loaded. Grids always come by viewport bbox;
            // streets and communities too when the scope has many of them (the city: lod.json says
            // which), each bbox snapped outwards per level so small pans reuse the same URL.
            lod: async function (zoom, bounds, store, config, du, su, cu, gu, className) {
                const keep = [noUpdate(), noUpdate(), noUpdate(), noUpdate(), noUpdate()];
                if (zoom === undefined || zoom === null || !config) return keep;
                const name = config.map;
                const v = ((store && store.versions) || {}).units || 0;
                const level = levelAt(zoom, config.lod);
                const depth = LEVELS.indexOf(level);
                const plan = depth >= 1 ? await lodPlan(config, v) : {bbox: ["grid"]};
                if (!plan) {
                    pending[name] = true; // retried on the next tick
                    return keep;
                }
                const box = viewBox(bounds);
                const current = [du, su, cu, gu];
                const wanted = LEVELS.map(function (lv, i) {
                    if (i > depth) return null;
                    if (plan.bbox.indexOf(lv) < 0) return layerUrl(config, "units", lv) + "?v=" + v;
                    if (!box) return current[i] || null;
                    const path = lv === "grid" ? layerUrl(config, "grids") : layerUrl(config, "units", lv);
                    return path + "?" + query({bbox: snapped(box, (config.snap || 0.02) * (SNAP_FACTOR[lv] || 1)), v: v});
                });
                const urls = await swap(name, wanted, current);
                let cls = "gridcc-map-wrap lod-" + level;
                if (zoom >= config.lod.grid_labels) cls += " labels-grid";
                urls.push(cls === className ? noUpdate() : cls);
                return urls;
            },

            // Per-unit open/overdue counts into each unit layer's hideout, when the cases version moved or
            // a layer's URL changed. The levels loaded whole get the whole scope's counts, all of them in
            // one payload (counts.json?levels=…); a layer loaded by bbox gets the counts of that same bbox
            // only (a change costs kilobytes, not an entry for every grid of a city); a bbox level that
            // is not loaded is left alone. The page may come with the whole levels' counts (their src).
            counts: async function (store, config, du, su, cu, gu, hd, hs, hc, hg) {
                const hideouts = [hd, hs, hc, hg];
                const urls = [du, su, cu, gu];
                const keep = [noUpdate(), noUpdate(), noUpdate(), noUpdate()];
                if (!store || !store.versions || !config) return keep;
                const v = store.versions.cases || 0;
                const plan = await lodPlan(config, store.versions.units || 0);
                if (!plan) {
                    pending[config.map] = true;
                    return keep;
                }
                const whole = LEVELS.filter(function (lv) { return plan.bbox.indexOf(lv) < 0; });
                const wholeUrl = whole.length ? layerUrl(config, "counts_all") + "?" + query({levels: whole.join(","), v: v}) : null;
                const wanted = LEVELS.map(function (lv, i) {
                    if (plan.bbox.indexOf(lv) < 0) return wholeUrl;
                    const bbox = bboxOf(urls[i]);
                    return bbox ? layerUrl(config, "counts", lv) + "?" + query({bbox: bbox, v: v}) : null;
                });
                const fresh = function (url, i) { return url === null || (hideouts[i] && hideouts[i].src === url); };
                if (wanted.every(fresh)) return keep;
                const asks = {};
                wanted.forEach(function (url, i) { if (!fresh(url, i)) asks[url] = true; });
                try {
                    const got = {};
                    await Promise.all(Object.keys(asks).map(async function (url) { got[url] = await fetchJSON(url); }));
                    return hideouts.map(function (h, i) {
                        const url = wanted[i];
                        if (!(url in got)) return noUpdate();
                        const counts = url === wholeUrl ? got[url][LEVELS[i]] || {} : got[url];
                        // equal counts: keep the hideout object, so the layer is not restyled for nothing
                        if (h && JSON.stringify(h.counts) === JSON.stringify(counts)) {
                            h.src = url;
                            h.v = v;
                            return noUpdate();
                        }
                        return Object.assign({}, h, {counts: counts, v: v, src: url});
                    });
                } catch (e) {
                    pending[config.map] = true;
                    return keep;
                }
            },

            // Cases, alerts and risks: a new versioned URL when their version (or the case filters) changed.
            // A district-sized scope gets its open cases whole (clustered here, in the browser); a
            // city-sized one (lod.json: cases_by_view) gets them by view: below the grid zooms clustered
            // on the server (cells of the clusterer's radius at that zoom), from the grid zooms on the
            // cases of the viewport, each bbox snapped outwards so small pans keep the URL.
            layers: async function (store, config, zoom, bounds, cu, gu, au, ru, hu) {
                calmRemovedMaps();
                const keep = [noUpdate(), noUpdate(), noUpdate(), noUpdate(), noUpdate()];
                if (!store || !store.versions || !config) return keep;
                const v = store.versions;
                const on = config.layers || {};
                const filters = config.filters || {};
                let cases = null;
                let aggregates = null;
                if (on.cases) {
                    const plan = await lodPlan(config, v.units || 0);
                    const box = viewBox(bounds);
                    if (!plan) {
                        pending[config.map] = true; // retried on the next tick
                        cases = cu || null;
                        aggregates = gu || null;
                    } else if (!plan.cases_by_view) {
                        const q = query(filters);
                        cases = layerUrl(config, "cases") + "?v=" + (v.cases || 0) + (q ? "&" + q : "");
                    } else if (!box || zoom === undefined || zoom === null) {
                        cases = cu || null;
                        aggregates = gu || null;
                    } else if (zoom >= config.lod.grid) {
                        const bbox = snapped(box, (config.snap || 0.02) * CASE_SNAP_FACTOR.grid);
                        cases = layerUrl(config, "cases") + "?" + query(Object.assign({}, filters, {bbox: bbox, v: v.cases || 0}));
                    } else {
                        const level = levelAt(zoom, config.lod);
                        const bbox = snapped(box, (config.snap || 0.02) * CASE_SNAP_FACTOR[level]);
                        const z = Math.floor(zoom);
                        aggregates = layerUrl(config, "clusters") + "?" + query(Object.assign({}, filters, {bbox: bbox, v: v.cases || 0, zoom: z}));
                    }
                }
                const wanted = [
                    cases,
                    aggregates,
                    on.alerts ? layerUrl(config, "alerts") + "?v=" + (v.alerts || 0) : null,
                    on.risks ? layerUrl(config, "risks") + "?v=" + (v.risks || 0) : null,
                    // the 类案 change when the cases do: the cases' version
                    on.hotspots ? layerUrl(config, "hotspots") + "?v=" + (v.cases || 0) : null,
                ];
                const context = window.dash_clientside.callback_context;
                const out = (context && context.outputs_list) || [];
                const ids = LAYER_PARTS.map(function (part, i) {
                    return (out[i] && out[i].id) || {part: part, map: config.map};
                });
                return handOver(config.map, ids, wanted, [cu, gu, au, ru, hu]);
            },
        },
    });
})();

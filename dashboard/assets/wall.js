/*
 * The wall (/): clientside callbacks (window.dash_clientside.gridcc_wall).
 *
 * refresh: when the map's versions store changes (the long poll's answer) and on its 1 s tick, compare
 *        the layer versions the map already fetched, the minute and the screen's scale with what the
 *        wall shows (wall-have). When a part is behind, POST /api/wall once and put what it answers into
 *        the wall's components (through set_props: Dash would drop the callback's result when a tick
 *        comes first); ask again only after RETRY_MS if no answer came (a plain fetch: a failed
 *        ask logs no callback error), or after BUILDING_RETRY_MS when a part came back stale (its new
 *        version still building in another process: layers.cache.load, stale-while-building).
 * down:  while the server cannot reach Redis (the versions store is marked down), "data stopped" in
 *        place of the feeds banner (a catalogue string the layout rendered, shown by a class).
 * clock: the clock, ticking in the browser (it keeps going while the server is away), and the "data
 *        as of" line turning amber when the data is older than STALE_S.
 *
 * Nothing here puts server text into the page: Dash renders the wall's components from plain strings.
 */
(function () {
    "use strict";

    const RETRY_MS = 3000;
    const BUILDING_RETRY_MS = 300; // a part answered stale (its new version building elsewhere): ask soon
    // versions just heard (the long poll answered): the map's new layers (the new case's marker) are
    // asked first, the wall's figures this much later, so that their build does not delay the marker
    const FIGURES_AFTER_MS = 300;
    const STALE_S = 120;
    let lastAsk = {key: null, at: 0};

    function noUpdate() {
        return window.dash_clientside.no_update;
    }

    function scaleNow() {
        const h = window.innerHeight || 1080;
        return Math.max(0.5, Math.round((h / 1080) * 4) / 4);
    }

    function wanted(store) {
        const v = (store && store.versions) || {};
        return {
            stats: String(v.cases || 0) + "." + String(v.kpis || 0) + "." + String(v.loop || 0),
            ticker: String(v.alerts || 0) + "." + String(v.loop || 0),
            feeds: String(v.feeds || 0),
            minute: Math.floor(Date.now() / 60000),
            scale: scaleNow(),
        };
    }

    function same(a, b) {
        if (!a || !b) return false;
        return ["stats", "ticker", "feeds", "minute", "scale"].every(function (k) {
            return String(a[k]) === String(b[k]);
        });
    }

    // clock: {locale, weekday} from the text catalogue (time_clock_intl_*), so that the browser's clock
    // says what the server's first render said (data.text.local_time(..., "clock")).
    function localClock(clock, tz) {
        const now = new Date();
        try {
            const parts = {};
            new Intl.DateTimeFormat((clock && clock.locale) || "zh-CN", {
                timeZone: tz || "Asia/Shanghai",
                year: "numeric", month: "2-digit", day: "2-digit",
                hour: "2-digit", minute: "2-digit", second: "2-digit",
                weekday: (clock && clock.weekday) || "long", hour12: false,
            }).formatToParts(now).forEach(function (p) { parts[p.type] = p.value; });
            const hour = parts.hour === "24" ? "00" : parts.hour;
            return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.weekday + " " +
                hour + ":" + parts.minute + ":" + parts.second;
        } catch (e) {
            return now.toISOString().slice(0, 19).replace("T", " ");
        }
    }

    let inflight = false;

    // The refresh callback's outputs, "id.property" in order, as the server wrote them into wall-config
    // (dashboard/wall/page.py OUTPUTS): the callback and /api/wall's answer both follow that list.
    function skipAll(config) {
        const n = (config && config.outputs || []).length;
        const out = [];
        for (let i = 0; i < n; i++) out.push(noUpdate());
        return out;
    }

    // The session's CSRF token, from the cookie the server sets for Dash (dashboard/auth/csrf.py):
    // with sign-in required, a POST without it is refused.
    function csrfToken() {
        const m = document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]*)/);
        return m ? decodeURIComponent(m[1]) : "";
    }

    async function ask(config, want, have) {
        const ctrl = new AbortController();
        const timer = setTimeout(function () { ctrl.abort(); }, 20000);
        try {
            const r = await fetch(config.api, {
                method: "POST",
                cache: "no-store",
                credentials: "same-origin",
                signal: ctrl.signal,
                headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
                body: JSON.stringify({want: want, have: have, lang: config && config.lang}),
            });
            if (!r.ok) return null;
            return await r.json();
        } catch (e) {
            return null;
        } finally {
            clearTimeout(timer);
        }
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        gridcc_wall: {
            // On the map's 1 s tick: is any part of the wall behind the versions the map fetched, the
            // minute or the screen's scale? Then ask the server once; a failed ask (server restarting,
            // network down) changes nothing on the screen and is retried after RETRY_MS.
            refresh: async function (n, store, have, config) {
                const want = wanted(store);
                if (same(want, have) || inflight) return skipAll(config);
                const key = JSON.stringify(want);
                const now = Date.now();
                if (key === lastAsk.key && now - lastAsk.at < RETRY_MS) return skipAll(config);
                lastAsk = {key: key, at: now};
                inflight = true;
                try {
                    const since = now - ((store && store.at) || 0);
                    if (since >= 0 && since < FIGURES_AFTER_MS) {
                        await new Promise(function (r) { setTimeout(r, FIGURES_AFTER_MS - since); });
                    }
                    const answer = await ask(config, want, have);
                    const expected = (config && config.outputs || []).length;
                    if (!answer || !Array.isArray(answer.outputs) || answer.outputs.length !== expected) {
                        return skipAll(config);
                    }
                    const haveAt = (config.outputs || []).indexOf("wall-have.data");
                    const got = haveAt >= 0 ? answer.outputs[haveAt] : null;
                    if (got && ["stats", "ticker", "feeds"].some(function (k) { return got[k] === "building"; })) {
                        lastAsk.at = Date.now() - RETRY_MS + BUILDING_RETRY_MS;
                    }
                    // Into the components through set_props, not as this callback's result: Dash drops
                    // the result of a callback asked again while it runs (the 1 s tick, the long poll),
                    // so an answer slower than a tick never reached the wall on a busy server.
                    (config.outputs || []).forEach(function (name, i) {
                        if (answer.skip[i]) return;
                        const dot = name.lastIndexOf(".");
                        const props = {};
                        props[name.slice(dot + 1)] = answer.outputs[i];
                        try {
                            window.dash_clientside.set_props(name.slice(0, dot), props);
                        } catch (e) {
                            // the wall is gone (another page now): nothing to show
                        }
                    });
                    return skipAll(config);
                } finally {
                    inflight = false;
                }
            },

            // The server cannot reach Redis (the map's tick marked its versions store down): the
            // header shows "data stopped" in place of the feeds banner, until Redis answers again.
            down: function (store, currentCls) {
                const cls = "wall-header" + (store && store.down ? " redis-down" : "");
                return cls === currentCls ? noUpdate() : cls;
            },

            clock: function (n, config, asOf, currentCls) {
                const text = localClock(config && config.clock, config && config.tz);
                let cls = "wall-asof";
                if (typeof asOf === "number" && Date.now() / 1000 - asOf > STALE_S) cls += " stale";
                return [text, cls === currentCls ? noUpdate() : cls];
            },
        },
    });
})();

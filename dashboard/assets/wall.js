/*
 * The wall (/): clientside callbacks (window.dash_clientside.gridcc_wall).
 *
 * gate:  on the map's 1 s tick, compare the layer versions the map already fetched (its versions store),
 *        the minute and the screen's scale with what the wall shows (wall-have). When a part is behind,
 *        ask the server once (wall-want); ask again only after RETRY_MS if the answer did not come. Asks
 *        that are not caused by a fresh version (the minute, the scale, a retry) first check that the
 *        server answers, so a wall whose server is restarting logs no failed callback.
 * clock: the clock, ticking in the browser (it keeps going while the server is away), and the "data
 *        as of" line turning amber when the data is older than STALE_S.
 *
 * Nothing here puts server text into the page: Dash renders the wall's components from plain strings.
 */
(function () {
    "use strict";

    const RETRY_MS = 10000;
    const PROBE_MS = 5000;
    const STALE_S = 120;
    let lastAsk = {key: null, at: 0};
    let lastProbe = 0;
    let lastSeen = null; // the versions store object the last ask was based on

    function noUpdate() {
        return window.dash_clientside.no_update;
    }

    function scaleNow() {
        const h = window.innerHeight || 1080;
        return Math.max(0.5, Math.round((h / 1080) * 4) / 4);
    }

    function base(config) {
        const b = (config && config.base) || "/";
        return b.endsWith("/") ? b : b + "/";
    }

    function wanted(store) {
        const v = (store && store.versions) || {};
        return {
            stats: String(v.cases || 0) + "." + String(v.kpis || 0),
            ticker: String(v.alerts || 0),
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

    async function serverAnswers(config) {
        const ctrl = new AbortController();
        const timer = setTimeout(function () { ctrl.abort(); }, 3000);
        try {
            const r = await fetch(base(config) + "api/versions", {cache: "no-store", signal: ctrl.signal, credentials: "same-origin"});
            return r.ok;
        } catch (e) {
            return false;
        } finally {
            clearTimeout(timer);
        }
    }

    function localClock(lang, tz) {
        const now = new Date();
        const en = lang === "en";
        try {
            const parts = {};
            new Intl.DateTimeFormat(en ? "en-GB" : "zh-CN", {
                timeZone: tz || "Asia/Shanghai",
                year: "numeric", month: "2-digit", day: "2-digit",
                hour: "2-digit", minute: "2-digit", second: "2-digit",
                weekday: en ? "short" : "long", hour12: false,
            }).formatToParts(now).forEach(function (p) { parts[p.type] = p.value; });
            const hour = parts.hour === "24" ? "00" : parts.hour;
            return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.weekday + " " +
                hour + ":" + parts.minute + ":" + parts.second;
        } catch (e) {
            return now.toISOString().slice(0, 19).replace("T", " ");
        }
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        gridcc_wall: {
            gate: async function (n, store, have, config) {
                const want = wanted(store);
                if (same(want, have)) return noUpdate();
                const key = JSON.stringify(want);
                const now = Date.now();
                if (key === lastAsk.key && now - lastAsk.at < RETRY_MS) return noUpdate();
                const fresh = store && store !== lastSeen && have &&
                    (want.stats !== have.stats || want.ticker !== have.ticker || want.feeds !== have.feeds);
                if (!fresh) {
                    if (now - lastProbe < PROBE_MS) return noUpdate();
                    lastProbe = now;
                    if (!(await serverAnswers(config))) return noUpdate();
                }
                lastSeen = store;
                lastAsk = {key: key, at: Date.now()};
                return Object.assign({}, want, {at: lastAsk.at});
            },

            clock: function (n, config, asOf, currentCls) {
                const text = localClock(config && config.lang, config && config.tz);
                let cls = "wall-asof";
                if (typeof asOf === "number" && Date.now() / 1000 - asOf > STALE_S) cls += " stale";
                return [text, cls === currentCls ? noUpdate() : cls];
            },
        },
    });
})();

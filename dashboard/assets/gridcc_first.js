/*
 * The first layout and the callback list come in the page (dashboard/first_page.py), as JSON data
 * blocks: the renderer's first GET of each is answered from there, once, instead of over the network.
 * Every other request, and a second ask of either, goes to the server as usual.
 */
(function () {
    "use strict";
    const realFetch = window.fetch;
    if (!realFetch) return;
    const blocks = {"_dash-layout": "gridcc-first-layout", "_dash-dependencies": "gridcc-first-dependencies"};
    window.fetch = function (input, init) {
        const url = typeof input === "string" ? input : (input && input.url) || "";
        const path = url.split("?")[0];
        const names = Object.keys(blocks);
        for (let i = 0; i < names.length; i++) {
            const name = names[i];
            if (!blocks[name] || path.slice(-name.length - 1) !== "/" + name) continue;
            const block = document.getElementById(blocks[name]);
            blocks[name] = null; // once: a later ask (a hot reload) goes to the server
            if (!block) break;
            return Promise.resolve(new Response(block.textContent, {
                status: 200,
                headers: {"Content-Type": "application/json"},
            }));
        }
        return realFetch.apply(this, arguments);
    };
})();

/*
 * A link inside the app (dcc.Link) to a page that needs a component library this page was sent without
 * (dashboard/first_page.py: AG Grid only where a page uses it): load that page in full instead.
 */
(function () {
    "use strict";
    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        gridcc_page: {
            bundles: function (pathname, info) {
                const noUpdate = window.dash_clientside.no_update;
                if (!info || !pathname) return noUpdate;
                const loaded = info.loaded || [];
                const pages = info.pages || [];
                for (let i = 0; i < pages.length; i++) {
                    if (!new RegExp(pages[i][0]).test(pathname)) continue;
                    const missing = pages[i][1].filter(function (ns) { return loaded.indexOf(ns) < 0; });
                    if (missing.length) window.location.reload();
                    break;
                }
                return noUpdate;
            },
        },
    });
})();

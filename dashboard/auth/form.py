"""The sign-in page: plain server-rendered HTML (works without JavaScript), Chinese first with English,
dark like the wall. Every value put into it is escaped."""

from __future__ import annotations

from urllib.parse import urlencode

from markupsafe import Markup

from data.text import LANGUAGES, other, t

# The page's words: ``signin_<key>`` in the text catalogue.
KEYS = (
    "title",
    "heading",
    "sub",
    "username",
    "password",
    "submit",
    "failed",
    "link_failed",
    "csrf",
    "setup",
    "other",
)

STYLE = """
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:#070b14;color:#dbe4f3;font-family:"Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif}
main{width:22rem;padding:2.2rem;background:#0e1626;border:1px solid #1f2d46;border-radius:10px}
h1{font-size:1.35rem;margin:0 0 .2rem}p.sub{margin:0 0 1.4rem;color:#7f8fa9}
label{display:block;margin:.9rem 0 .3rem;font-size:.95rem}
input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:.6rem;font-size:1rem;
color:#dbe4f3;background:#070b14;border:1px solid #2b3c5c;border-radius:6px}
button{margin-top:1.4rem;width:100%;padding:.7rem;font-size:1rem;border:0;border-radius:6px;
background:#2f6fde;color:#fff;cursor:pointer}
.error{margin:0 0 1rem;padding:.6rem;border-radius:6px;background:#3b1420;color:#ffb4c0}
.setup{margin:0 0 1rem;padding:.6rem;border-radius:6px;background:#2e2a12;color:#ffe9a8;font-size:.9rem}
.setup code{display:block;margin-top:.4rem;padding:.4rem;background:#070b14;color:#dbe4f3;
word-break:break-all;font-size:.85rem}
.lang{display:block;margin-top:1.2rem;text-align:right;color:#7f8fa9;font-size:.85rem}
"""

# Applied to every sign-in response: nothing but our own inline style, no scripts, no framing.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def lang_of(value: str | None, default: str) -> str:
    return value if value in LANGUAGES else default


def signin_page(
    *, lang: str, csrf: str, next_path: str, username: str = "", error: str = "", first_admin: str = ""
) -> str:
    """The page; ``error`` is a key of :data:`KEYS` (``failed``, ``link_failed``, ``csrf``) or empty;
    ``first_admin``, when no account exists yet, the console command that adds the first admin."""
    s = {key: t(f"signin_{key}", lang) for key in KEYS}
    message = Markup('<p class="error" role="alert">{}</p>').format(s[error]) if error else Markup("")
    if first_admin:
        message += Markup('<p class="setup" role="note">{}<code>{}</code></p>').format(
            s["setup"], first_admin
        )
    query = "?" + urlencode({"lang": other(lang), "next": next_path})
    return str(
        Markup(
            '<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>{title}</title><style>{style}</style></head><body><main>"
            "<h1>{heading}</h1><p class=sub>{sub}</p>{message}"
            '<form method="post" action="/signin?lang={lang}" autocomplete="on">'
            '<input type="hidden" name="csrf_token" value="{csrf}">'
            '<input type="hidden" name="next" value="{next}">'
            '<label for="username">{l_user}</label>'
            '<input id="username" name="username" type="text" value="{username}" autocomplete="username" '
            "required autofocus>"
            '<label for="password">{l_pass}</label>'
            '<input id="password" name="password" type="password" autocomplete="current-password" required>'
            '<button type="submit">{submit}</button></form>'
            '<a class="lang" href="/signin{query}">{other}</a>'
            "</main></body></html>"
        ).format(
            lang=lang,
            title=s["title"],
            style=Markup(STYLE),  # noqa: S704 (a constant of this module)
            heading=s["heading"],
            sub=s["sub"],
            message=message,
            csrf=csrf,
            next=next_path,
            l_user=s["username"],
            username=username,
            l_pass=s["password"],
            submit=s["submit"],
            query=query,
            other=s["other"],
        )
    )

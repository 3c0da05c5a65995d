"""Fill ``case.search_terms`` and ``case.phone_hash`` for stored cases, in committed-size batches.

Run by migration 0009 for the cases stored before it (the phone hashes too when the migration is given
the key, as ``gridcc migrate`` does) and by ``gridcc db rebuild-search`` (after a bulk load that wrote
cases without them, or with ``--phones`` after the phone search key changed). A second run changes
nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, column, select, table, update

from .terms import document_terms, phone_hash

_CASE = table(
    "case",
    column("id"),
    column("title"),
    column("description"),
    column("address"),
    column("reporter_phone"),
    column("search_terms"),
    column("phone_hash"),
)


def backfill(conn: Connection, key: bytes | None, *, only_missing: bool = True, batch: int = 5000) -> int:
    """Compute the search columns of the cases (by id, ``batch`` at a time); returns how many rows were
    written. ``only_missing``: only rows without ``search_terms`` (or without a phone hash while having
    a phone, given a key). Without ``key`` phone hashes are left as they are."""
    c = _CASE.c
    written = 0
    last = 0
    while True:
        query = (
            select(c.id, c.title, c.description, c.address, c.reporter_phone, c.search_terms, c.phone_hash)
            .where(c.id > last)
            .order_by(c.id)
            .limit(batch)
        )
        rows = conn.execute(query).all()
        if not rows:
            return written
        last = rows[-1].id
        changes = []
        for r in rows:
            terms = r.search_terms
            if terms is None or not only_missing:
                terms = document_terms(r.title, r.description, r.address)
            hashed = phone_hash(r.reporter_phone, key) if key else r.phone_hash
            if terms != r.search_terms or hashed != r.phone_hash:
                changes.append({"b_id": r.id, "b_terms": terms, "b_hash": hashed})
        if changes:
            stmt = (
                update(_CASE)
                .where(c.id == bindparam("b_id"))
                .values(search_terms=bindparam("b_terms"), phone_hash=bindparam("b_hash"))
            )
            conn.execute(stmt, changes)
            written += len(changes)

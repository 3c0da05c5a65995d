"""Feed protocols as adapters: :class:`.base.FeedProtocol` and one class per protocol (``open311``,
``cap``, ``sensor``), registered in :mod:`workers.feeds.registry`. They sit above the fetch and the
parsers (:mod:`workers.feeds`) and the ingest (:mod:`workers.ingest`), below the poll job."""

"""Delivery of the loop's outbox to the departments: the outbound connectors (one per signing scheme,
registered in :mod:`.registry`) and the delivery run (:mod:`.deliver`) the RQ job calls."""

"""The OASIS CAP XML schemas (package data; see PROVENANCE.md)."""

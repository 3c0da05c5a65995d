"""The case search: by number, by words of a case's texts, by the reporter's phone (keyed hash)."""

from .query import KINDS, SearchResult, clean_query, kind_of, search_cases
from .terms import document_terms, phone_digits, phone_hash, query_terms, search_columns

__all__ = [
    "KINDS",
    "SearchResult",
    "clean_query",
    "document_terms",
    "kind_of",
    "phone_digits",
    "phone_hash",
    "query_terms",
    "search_cases",
    "search_columns",
]

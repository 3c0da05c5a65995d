"""Secrets never survive data.redact: URLs with keys and passwords, error texts quoting them."""

from __future__ import annotations

import pytest

from data.redact import is_secret_name, redact_payload, redact_text, redact_url

KEY = "s3cr3t-KEY-9f8e7d"


@pytest.mark.parametrize(
    "name", ["api_key", "API_KEY", "apiKey", "apikey", "access_token", "token", "X-Api-Key", "pwd", "sig"]
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["page", "page_size", "updated_after", "service_code", "monkey", "keyword"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_url_keeps_everything_but_the_secret() -> None:
    url = f"http://user:{KEY}@10.0.0.9:8080/requests.xml?page_size=200&api_key={KEY}&page=1"
    out = redact_url(url)
    assert KEY not in out
    assert out == "http://user:***@10.0.0.9:8080/requests.xml?page_size=200&api_key=***&page=1"
    assert redact_url("http://10.0.0.9/requests.xml?page=2") == "http://10.0.0.9/requests.xml?page=2"


def test_error_text_quoting_a_url_and_pairs() -> None:
    text = (
        f"HTTP 500 from http://127.0.0.1:8600/requests.xml?updated_after=2025-01-01&api_key={KEY}&page=1: "
        f"server said token={KEY}; Authorization: {KEY}"
    )
    out = redact_text(text)
    assert KEY not in out
    assert "updated_after=2025-01-01" in out
    assert "HTTP 500 from http://127.0.0.1:8600/requests.xml?" in out
    assert "&page=1: server said" in out  # the sentence's colon is not taken into the URL
    assert redact_text(None) == ""
    assert redact_text("timed out after 10 s") == "timed out after 10 s"


def test_payload_members_and_elements_named_as_secrets() -> None:
    """A quarantined payload shown on /feeds: secret-named JSON members and XML elements are masked as
    well as the pairs and URLs :func:`redact_text` sees; other members and elements are kept."""
    json_payload = (
        f'{{"service_request_id": "e9", "api_key" : "{KEY}", "apiKey": "{KEY}", '
        f'"keyword": "井盖", "note": "see http://x/r?token={KEY}"}}'
    )
    out = redact_payload(json_payload)
    assert KEY not in out
    assert '"api_key" : "***"' in out and '"apiKey": "***"' in out
    assert '"service_request_id": "e9"' in out and '"keyword": "井盖"' in out
    xml_payload = (
        f"<request><id>e9</id><access_token>{KEY}</access_token><Password>{KEY}</Password></request>"
    )
    assert redact_payload(xml_payload) == (
        "<request><id>e9</id><access_token>***</access_token><Password>***</Password></request>"
    )
    assert redact_payload(None) == ""

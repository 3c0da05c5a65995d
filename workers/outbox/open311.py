"""The outbound connector ``open311``: a 交办 / 转办 of a case the department does not hold yet is filed
in the department's own Open311 (GeoReport v2) system with ``POST requests``; everything else (吹哨,
督办, a 交办 of a case that came from the department) goes to its ``url`` as signed JSON, like
``signed-json`` (``docs/loop.md``).

The POST is a form (``application/x-www-form-urlencoded``) with ``api_key`` (from the env var the
endpoint's ``api_key_env`` names), ``service_code`` (the case's category through the endpoint's
``service_codes``, else ``default_service_code``, else the category code itself), ``lat``/``long`` or
``address_string``, ``description`` (the case's title and the instruction) and ``attribute[…]``:
``gridcc_message_id`` (the idempotency key: the department deduplicates on it, and on the same value in
the ``Idempotency-Key`` header), ``gridcc_case_id``, ``gridcc_instruction_id``, ``gridcc_report_by``.
The form is signed like a JSON instruction (``X-Gridcc-Timestamp`` / ``X-Gridcc-Signature`` with the
department's secret) for a department that checks it. The answer's ``service_request_id`` (or ``token``)
is returned as the delivery's receipt, shown on the ``delivered`` event. Same outbound guard, same
retry rules: 2xx delivered; 408, 425, 429, 5xx and network errors retried; another 4xx refused for good.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import httpx

from data.loop import signing
from data.loop.endpoints import EndpointConfig
from data.redact import redact_text, redact_url

from ..feeds import xmlsafe
from ..feeds.outbound import OutboundRefused
from ..feeds.records import DocumentRejected
from .registry import DeliveryError
from .signed_json import RETRYABLE, USER_AGENT, SignedJson

HAND_OVER = frozenset({"dispatch", "redispatch"})  # 交办 / 转办: the department takes the case on
DESCRIPTION_MAX = 4000
RECEIPT_MAX = 64 * 1024  # an answer is a few hundred bytes: the rest is not read for the receipt


def _files(endpoint: EndpointConfig, doc: dict[str, Any]) -> bool:
    """Whether this instruction is filed as a new Open311 request: a 交办 / 转办 of a case the department
    does not hold yet (the case came from another department's feed)."""
    case = doc.get("case") or {}
    return doc.get("kind") in HAND_OVER and case.get("source_department") != endpoint.department


def request_form(
    endpoint: EndpointConfig, message_id: str, doc: dict[str, Any], api_key: str
) -> dict[str, str]:
    """The GeoReport v2 ``POST requests`` fields of one instruction."""
    case = doc.get("case") or {}
    category = str(case.get("category") or "")
    code = endpoint.service_codes.get(category) or endpoint.default_service_code or category
    if not code:
        raise DeliveryError(f"no service_code for category {category!r}", permanent=True)
    form = {"api_key": api_key, "service_code": code}
    if case.get("lat") is not None and case.get("lon") is not None:
        form["lat"], form["long"] = f"{float(case['lat']):.7f}", f"{float(case['lon']):.7f}"
    if case.get("address"):
        form["address_string"] = str(case["address"])
    if "lat" not in form and "address_string" not in form:
        raise DeliveryError("the case has neither a point nor an address for Open311", permanent=True)
    text = " — ".join(str(p) for p in (case.get("title"), doc.get("text"), doc.get("reason")) if p)
    form["description"] = text[:DESCRIPTION_MAX]
    attributes = {
        "gridcc_message_id": message_id,
        "gridcc_case_id": str(case.get("id", "")),
        "gridcc_instruction_id": str(doc.get("instruction_id", "")),
        "gridcc_report_by": str(doc.get("report_by") or ""),
    }
    form.update({f"attribute[{k}]": v for k, v in attributes.items()})
    return form


def receipt(response: httpx.Response, url: str) -> str:
    """``service_request_id=…`` (or ``token=…``) from a GeoReport v2 answer, JSON or XML."""
    found: dict[str, str] = {}
    body = response.content[:RECEIPT_MAX]
    try:
        if url.endswith(".xml") or body.lstrip().startswith(b"<"):
            for el in xmlsafe.parse(body).iter():  # defused: no DTD, no entities
                name = xmlsafe.local(el.tag)
                if name in ("service_request_id", "token") and (el.text or "").strip():
                    found.setdefault(name, (el.text or "").strip())
        else:
            doc = json.loads(body)
            first = doc[0] if isinstance(doc, list) and doc else doc
            if isinstance(first, dict):
                found = {k: str(first[k]) for k in ("service_request_id", "token") if first.get(k)}
    except (ValueError, DocumentRejected):
        pass
    for name in ("service_request_id", "token"):
        if name in found:
            return f"{name}={redact_text(found[name][:100])}"
    return "service_request_id=?"


class Open311(SignedJson):
    name = "open311"

    def send(self, endpoint: EndpointConfig, message_id: str, body: bytes) -> str | None:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        if not endpoint.open311_url or not isinstance(doc, dict) or not _files(endpoint, doc):
            return super().send(endpoint, message_id, body)
        return self._post_request(endpoint, message_id, doc)

    def _post_request(self, endpoint: EndpointConfig, message_id: str, doc: dict[str, Any]) -> str:
        url = endpoint.open311_url
        api_key = endpoint.api_key()
        if not api_key:
            raise DeliveryError(
                f"no Open311 api key in ${endpoint.api_key_env} for {endpoint.department}", True
            )
        form = urllib.parse.urlencode(request_form(endpoint, message_id, doc, api_key)).encode()
        rules, client = self._client(endpoint, url)
        try:
            rules.check_url(url)
        except OutboundRefused as exc:
            raise DeliveryError(exc.reason, permanent=True) from None
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Accept": "application/xml" if url.endswith(".xml") else "application/json",
            "User-Agent": USER_AGENT,
            signing.MESSAGE_ID: message_id,
            signing.IDEMPOTENCY_KEY: message_id,
        }
        secret = endpoint.secret()
        if secret:
            headers.update(signing.signed_headers(secret, str(int(time.time())), form))
        try:
            response = client.post(url, content=form, headers=headers, timeout=endpoint.timeout)
        except OutboundRefused as exc:
            raise DeliveryError(exc.reason, permanent=True) from None
        except httpx.HTTPError as exc:
            reason = redact_text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            raise DeliveryError(f"{redact_url(url)}: {reason}") from None
        status = response.status_code
        if 200 <= status < 300:
            return receipt(response, url)
        snippet = redact_text(response.text[:200].strip())
        permanent = 400 <= status < 500 and status not in RETRYABLE
        raise DeliveryError(f"{redact_url(url)}: HTTP {status} {snippet}".strip(), permanent)

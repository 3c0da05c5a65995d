"""Phones and ID numbers in free text (issue 9, finding 7) and invisible controls (finding 12's bidi part):
one function, :func:`data.masking.mask_personal_text`, on the shapes real texts carry."""

from __future__ import annotations

import re

import pytest

from data.masking import ID_PLACEHOLDER, PHONE_PLACEHOLDER, has_personal, mask_personal_text, neutralise

PHONES = [
    ("电话13912345678", "电话139****5678"),
    ("联系电话：139 1234 5678。", "联系电话：139****5678。"),
    ("139-1234-5678", "139****5678"),
    ("+86 139 1234 5678", "139****5678"),
    ("+8613912345678", "139****5678"),
    ("0086-13912345678", "139****5678"),
    ("Tel:15023456789", "Tel:150****6789"),
    ("023-61234567", "023****4567"),
    ("(023)61234567", "023****4567"),
    ("（023）6123 4567", "023****4567"),
    ("座机02361234567转", "座机023****4567转"),
    ("0571-8765432", "057****5432"),
    ("+86-23-61234567", "023****4567"),
]
IDS = [
    ("身份证号50010119900101123X，", "身份证号500101********123X，"),
    ("500101199001011234", "500101********1234"),
    ("id 50010119900101123x", "id 500101********123x"),
    ("500101 19900101 123X", "500101********123X"),
    ("老证500101900101123", "老证500101*****1123"),
]
NOT_PERSONAL = [
    "案件号 SR-20261206-0001",
    "2026-12-06 13:45",
    "受理于20261206",
    "106.5512345678,29.5634561391",
    "网格500151001005007",  # a 15-digit grid code is not an old ID
    "街道500151002 社区500151002005",
    "时间戳1733456789 毫秒1733456789012",
    "工单139123456789",  # 12 digits: not a mobile
    "编号13912345678901",
    "0.13912345678",
    "12345热线",
]


@pytest.mark.parametrize(("text", "masked"), PHONES + IDS)
def test_phones_and_ids_are_masked_or_replaced(text: str, masked: str) -> None:
    assert mask_personal_text(text, "masked") == masked
    none = mask_personal_text(text, "none")
    assert PHONE_PLACEHOLDER in none or ID_PLACEHOLDER in none
    digits_before = re.sub(r"\D", "", masked)
    assert not any(d in none for d in (digits_before[:3], digits_before[-4:])), none  # no digit of it
    assert mask_personal_text(text, "full") == text
    assert has_personal(text)


def test_wall_placeholders_keep_the_sentence() -> None:
    text = "电话13912345678的居民反映，身份证50010119900101123X遗失"
    wall = f"电话{PHONE_PLACEHOLDER}的居民反映，身份证{ID_PLACEHOLDER}遗失"
    assert mask_personal_text(text, "none") == wall
    assert mask_personal_text(text, "unknown-mode") == mask_personal_text(text, "none")


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_case_numbers_dates_codes_and_coordinates_are_left_alone(text: str) -> None:
    assert not has_personal(text)
    assert mask_personal_text(text, "none") == text


INVISIBLE = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


@pytest.mark.parametrize("char", INVISIBLE + ZERO_WIDTH)
def test_bidi_and_zero_width_characters_are_removed_in_every_mode(char: str) -> None:
    spoof = f"渝中区{char}解放碑{char}路1号"
    for mode in ("full", "masked", "none"):
        assert mask_personal_text(spoof, mode) == "渝中区解放碑路1号"
    assert neutralise(spoof) == "渝中区解放碑路1号"


def test_a_zero_width_space_cannot_hide_a_phone() -> None:
    assert mask_personal_text("139\u200b1234\u200d5678", "none") == PHONE_PLACEHOLDER
    spoofed = "\u202e87654321931\u202c 电话13912345678"
    assert mask_personal_text(spoofed, "masked") == "87654321931 电话139****5678"

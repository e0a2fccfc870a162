"""Redaction of personal data from customer text: what must go, and what must stay readable."""

from __future__ import annotations

import pytest

from deskpulse.reports.redact import iban_valid, luhn_valid, redact

# ---- e-mail addresses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to anna.k+orders@mail.example.co.uk today", "write to [email] today"),
        ("<bob_smith@example.org>", "<[email]>"),
        ("Contact: x@y.io.", "Contact: [email]."),
        ("two: a@b.de, c@d.fr", "two: [email], [email]"),
    ],
)
def test_email_addresses_go(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["meet @ 10:00", "user@localhost without a domain", "price 5@3 EUR"])
def test_what_only_looks_like_an_address_stays(text: str) -> None:
    assert redact(text) == text


# ---- card numbers (Luhn) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 was charged", "card [card] was charged"),  # Visa test number
        ("card 4111-1111-1111-1111.", "card [card]."),
        ("5500005555555559 twice", "[card] twice"),  # Mastercard test number, solid
        ("Amex 3782 822463 10005", "Amex [card]"),  # 15 digits in 4-6-5 groups
        ("card 4111 1111 1111 1111 12/27", "card [card] 12/27"),  # the expiry date stays
        ("card number 4111111111111111", "card number [card]"),  # "number" after "card" is still a card
    ],
)
def test_card_numbers_that_pass_luhn_go(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # fails the Luhn check
        "order 1234567890128 shipped",  # passes Luhn, but an order number says it is an order number
        "tracking 4111111111111111",
        "0000 0000 0000 0000",  # a placeholder, not a card
        "1234 5678",  # too short
    ],
)
def test_numbers_that_are_not_cards_stay(text: str) -> None:
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112") and not luhn_valid("79927398710")


# ---- IBANs (mod 97) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [iban] please"),
        ("to GB29NWBK60161331926819.", "to [iban]."),
        ("iban: fr14 2004 1010 0505 0001 3m02 606", "iban: [iban]"),  # lower case too
        ("IBAN DE89370400440532013000 BIC COBADEFFXXX", "IBAN [iban] BIC COBADEFFXXX"),
    ],
)
def test_ibans_that_pass_mod_97_go(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "IBAN DE89 3704 0044 0532 0130 01",  # one digit off: the checksum fails
        "part DE12345 and AB12 CDEF GHIJ KLMN",  # no country of that length, no valid checksum
        "model XX12ABCDEFGHIJKLMNO",  # not a country
    ],
)
def test_what_is_not_an_iban_stays(text: str) -> None:
    assert redact(text) == text


def test_iban_check() -> None:
    assert iban_valid("DE89 3704 0044 0532 0130 00") and iban_valid("GB29NWBK60161331926819")
    assert not iban_valid("DE89 3704 0044 0532 0130 01") and not iban_valid("DE89 3704 0044 0532 0130")


# ---- phone numbers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +49 30 1234567 today", "call [phone] today"),
        ("or 0049-30-1234567", "or [phone]"),
        ("+1 (555) 123-4567", "[phone]"),
        ("Festnetz 030 1234567, mobil 0171/1234567", "Festnetz [phone], mobil [phone]"),
        ("(030) 1234-567", "[phone]"),
        ("my number is 555-123-4567.", "my number is [phone]."),
        ("phone: 12 34 56 78 90", "phone: [phone]"),  # any shape after a phone word
        ("Tel.: 98765432", "Tel.: [phone]"),
    ],
)
def test_phone_numbers_go(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order #12345678 arrived",
        "Order 0012345 on 05.03.2026",
        "invoice no. 0172 456789",  # a reference after "invoice no."
        "on 03/05/2026 and 2026-03-05 at 10:30",
        "it cost 1,299.00 EUR, then €49.99 and $1.234.567",
        "version 1.2.3 and build 2026.03.1",
        "ticket 12345 and case 555-123-4567",
        "from 9 to 17 on 12 days",
        "IP 192.168.100.200",
    ],
)
def test_order_numbers_dates_prices_and_versions_stay(text: str) -> None:
    assert redact(text) == text


# ---- names in greetings and sign-offs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi Anna,\nmy order…", "Hi [name],\nmy order…"),
        ("Dear Mr Smith,", "Dear [name],"),
        ("Dear Mrs. Jane Doe:", "Dear [name]:"),
        ("hello Björn!", "hello [name]!"),
        ("Sehr geehrte Frau Müller-Lüdenscheidt,", "Sehr geehrte [name],"),
        ("Hi Anna and Tom,", "Hi [name],"),
        ("Good morning Sean O'Neil,", "Good morning [name],"),
        ("Thanks, Bob", "Thanks, [name]"),
        ("Thanks, Bob.", "Thanks, [name]."),
        ("Regards\nJane Doe", "Regards\n[name]"),
        ("Best regards,\n  J. McDonald", "Best regards,\n  [name]"),
        ("Mit freundlichen Grüßen\nJürgen Weiß", "Mit freundlichen Grüßen\n[name]"),
        ("Please escalate this.\n\nBjörn", "Please escalate this.\n\n[name]"),  # a name alone on the last line
    ],
)
def test_names_in_greetings_and_signatures_go(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hi team,",
        "Hello there!",
        "Dear Sir or Madam,",
        "Dear Acme Support Team,",
        "Hi ACME,",
        "Hello, I ordered a lamp.",
        "hello i need help, fast",  # not capitalised: no name
        "Thanks, I will try that.",
        "Thanks for your help!",
        "Best regards,\nThe Acme Team",
        "Thanks\nThe order arrived broken",
        "It works now.\n\nSent from my iPhone",
        "Anna from accounting says hi",  # a name in the text, not in a greeting or signature, stays
    ],
)
def test_what_is_not_a_greeted_or_signing_name_stays(text: str) -> None:
    assert redact(text) == text


def test_a_whole_message() -> None:
    message = (
        "Hello Anna,\n\nI was charged twice (order #A30675, 49.90 EUR on 2026-03-02) on my Visa 4111 1111 1111 1111. "
        "Please refund to DE89 3704 0044 0532 0130 00 or call me at +49 171 2345678.\n\nKind regards,\nCarla Jones"
    )
    assert redact(message) == (
        "Hello [name],\n\nI was charged twice (order #A30675, 49.90 EUR on 2026-03-02) on my Visa [card]. "
        "Please refund to [iban] or call me at [phone].\n\nKind regards,\n[name]"
    )

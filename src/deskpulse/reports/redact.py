"""Personal data out of customer text before a report quotes it: e-mail addresses, phone numbers, payment card
numbers, IBANs, and the names in greetings and sign-offs.

A report travels further than the help desk (to product, finance, a slide deck), so a quote keeps what the
customer said and loses who they are. Each kind is found by a pattern and, where a number can be checked, by its
check digits (Luhn for cards, mod 97 for IBANs), so order numbers, dates, prices and versions stay readable: a
quote that lost its order number or its price would lose the point it makes. Pure functions, no I/O.
"""

from __future__ import annotations

import re

EMAIL, PHONE, CARD, IBAN, NAME = "[email]", "[phone]", "[card]", "[iban]", "[name]"

# The local part starts where a run of its characters starts: tried at every letter of a long word without "@",
# the search would take time quadratic in the word.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Countries' IBAN lengths (ISO 13616 registry): a candidate of another length is no IBAN, whatever its checksum.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
# Two letters, two check digits, then letters and digits, written solid or in blocks of four; a candidate may run on
# into the next word, so it is cut to its country's length before it is checked.
_IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,32}")
# 13 to 19 digits, solid or in groups separated by single spaces or hyphens (a following group, such as an expiry
# date, may be taken in: the check tries the number up to each group's end).
_CARD = re.compile(r"(?<![\w#/.,+-])\d(?:[ -]?\d){12,24}(?![\w/-]|[.,]\d)")
# Words that make the number after them a phone number, whatever its shape.
_PHONE_CUE = re.compile(
    r"\b(?:phone|tel|telephone|telefon|mobile|mobil|cell|handy|fax|whatsapp|call me(?: back)?(?: at| on)?"
    r"|reach me(?: at| on)?|ring me(?: at| on)?|number is)\b\.?:?[ \t]*$",
    re.IGNORECASE,
)
# Words that make the number after them a reference, not a phone: an order or invoice number stays.
_REFERENCE_CUE = re.compile(
    r"(?:\b(?:order|invoice|ticket|ref|reference|tracking|account|customer|contract|case|booking|receipt|sku"
    r"|serial|nr|no|id|number|bestellung|rechnung|kundennummer)\b\.?|#)[ \t:#]*$",
    re.IGNORECASE,
)
# A card number named as such is one even after "number": "card number 4111 …".
_CARD_CUE = re.compile(r"\b(?:card|credit|debit|visa|mastercard|amex|karte|kreditkarte)\b", re.IGNORECASE)
_PHONE_SHAPES = (
    # International: +49 30 1234567, 0049-30-1234567, +1 (555) 123-4567.
    re.compile(r"(?<![\w#/.+-])(?:\+|00)[1-9]\d{0,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,6}){1,6}(?![\w/]|[.,]\d)"),
    # National with a trunk zero and a separator: 030 1234567, (030) 1234-567, 0171/1234567.
    re.compile(r"(?<![\w#/.,-])(?:\(0\d{1,5}\)|0\d{1,5})[ /-]?\d{2,}(?:[ -]\d{2,})*(?![\w/]|[.,]\d)"),
    # North American: (555) 123-4567, 555-123-4567, 555.123.4567.
    re.compile(r"(?<![\w#/.,-])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w/-]|[.,]\d)"),
)
# After a cue word, any run of digits and separators holding enough digits.
_CUED_NUMBER = re.compile(r"\+?\(?\d[\d ()./-]{5,}\d")
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")

# A name word: "Anna", "O'Neil", "Müller-Lüdenscheidt", an initial "J."; letters of any script. Each repetition
# starts with a separator, so a long word cannot make the pattern backtrack. Capitals are checked afterwards
# (`_name_replacer`): Python's patterns have no class for upper-case letters of every script.
_NAME_WORD = r"(?:[^\W\d_]\.|[^\W\d_]+(?:['’-][^\W\d_]+)*)"
_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau)\.?[ \t]+)"
_PERSON = rf"(?:{_TITLE}?{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}})"
_NAMES = rf"(?:{_PERSON}(?:[ \t]+(?:and|und|&)[ \t]+{_PERSON})?)"  # "Hi Anna and Tom,"
_GREETING = re.compile(
    r"(?m)^([ \t]*(?i:hi|hello|hey|dear|hallo|liebe|lieber|moin|servus|good (?:morning|afternoon|evening)"
    r"|sehr geehrte[rs]?)[ \t]+)"
    rf"({_NAMES})(?=[ \t]*(?:[,!:]|$))"
)
_CLOSING = (
    r"(?i:thanks|thank you|many thanks|thanks again|thx|cheers|regards|best regards|kind regards|warm regards"
    r"|best wishes|best|all the best|sincerely|yours sincerely|yours truly|yours|greetings|take care"
    r"|viele grüße|beste grüße|liebe grüße|mit freundlichen grüßen|freundliche grüße|grüße|gruß|lg|vg|mfg)"
)
# "Thanks, Bob" on one line, or the closing alone and the name on the next line ("Regards\nJane Doe").
_SIGN_OFF = re.compile(rf"(?m)^([ \t]*{_CLOSING}[ \t]*[,!.]?(?:[ \t]+|[ \t]*\r?\n[ \t]*))({_NAMES})[ \t]*[.!]?[ \t]*$")
# A message's last line holding only a name is its signature ("…to a manager.\n\nBjörn").
_LAST_LINE = re.compile(rf"(\n[ \t]*)({_NAMES})[ \t]*[.!]?\s*\Z")
# Greeted or signed by these, it is nobody's name: "Hi team,", "Dear Sir or Madam", "Thanks, The Acme Team".
_NOT_NAMES = frozenset(
    (
        *("all", "everyone", "everybody", "team", "there", "support", "folks", "guys", "friends", "again"),
        *("sir", "madam", "colleagues", "customer", "service", "the", "a", "an", "i", "we", "you", "it", "this"),
        *("that", "my", "our", "your", "thanks", "thank", "hello", "hi", "dear", "regards", "best", "kind"),
        *("sincerely", "yours", "morning", "afternoon", "evening", "cheers", "thx", "greetings", "wishes", "care"),
        *("please", "help", "urgent", "still", "waiting", "sent", "order", "ok", "okay", "yes", "no"),
    )
)


def redact(text: str) -> str:
    """``text`` with every e-mail address, IBAN, card number and phone number replaced by ``[email]``,
    ``[iban]``, ``[card]`` and ``[phone]``, and the names in greetings and sign-offs by ``[name]``."""
    text = _EMAIL.sub(EMAIL, text)
    valid, _ = _iban_spans(text)
    text = _replaced(text, valid, IBAN)
    # What is left of IBAN shape failed its checksum: a mistyped IBAN, whose digits are no card or phone number.
    text = _replaced(text, _card_spans(_masked(text, _iban_spans(text)[1])), CARD)
    text = _replaced(text, _phone_spans(_masked(text, _iban_spans(text)[1])), PHONE)
    text = _GREETING.sub(_name_replacer, text)
    text = _SIGN_OFF.sub(_name_replacer, text)
    return _LAST_LINE.sub(_name_replacer, text)


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a card number (digits only): every second digit from the right doubled."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616: a known country's length, and the number with its first four characters moved to the end and
    letters as 10…35 leaves 1 modulo 97."""
    iban = candidate.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _iban_spans(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The valid IBANs, and every run of a country's IBAN length in IBAN shape, valid or not."""
    valid, shaped = [], []
    for match in _IBAN.finditer(text):
        length = _IBAN_LENGTHS.get(match.group(0)[:2].upper())
        if length is None:
            continue
        # The end of the country's length in characters of the candidate, spaces skipped.
        end, seen = match.start(), 0
        while seen < length and end < match.end():
            seen += text[end] != " "
            end += 1
        if seen == length and not text[end : end + 1].isalnum():
            shaped.append((match.start(), end))
            if iban_valid(text[match.start() : end]):
                valid.append((match.start(), end))
    return valid, shaped


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the spans overwritten by letters (same length), so no number is found in them."""
    for start, end in spans:
        text = text[:start] + "X" * (end - start) + text[end:]
    return text


def _card_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _CARD.finditer(text):
        before = text[max(0, match.start() - 30) : match.start()]
        if _REFERENCE_CUE.search(before) and not _CARD_CUE.search(before):
            continue
        candidate = match.group(0)
        # Try the whole run, then the run up to each separator, longest first.
        ends = [len(candidate), *(i for i in range(len(candidate) - 1, 0, -1) if candidate[i] in " -")]
        for end in ends:
            digits = re.sub(r"[ -]", "", candidate[:end])
            # Never all one digit: "0000 0000 0000 0000" passes Luhn but is a placeholder.
            if 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits):
                spans.append((match.start(), match.start() + end))
                break
    return spans


def _phone_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _CUED_NUMBER.finditer(text):
        before = text[max(0, match.start() - 30) : match.start()]
        if _PHONE_CUE.search(before) and 7 <= _digits(match.group(0)) <= 15:
            spans.append(match.span())
    for shape in _PHONE_SHAPES:
        for match in shape.finditer(text):
            before = text[max(0, match.start() - 30) : match.start()]
            if _overlaps(match.span(), spans) or not 7 <= _digits(match.group(0)) <= 15:
                continue
            if _DATE.match(match.group(0)) or _REFERENCE_CUE.search(before):
                continue
            spans.append(match.span())
    return spans


def _replaced(text: str, spans: list[tuple[int, int]], token: str) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + token + text[end:]
    return text


def _digits(text: str) -> int:
    return sum(char.isdigit() for char in text)


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _name_replacer(match: re.Match[str]) -> str:
    """Keep the greeting or closing and replace the name, unless a word of it shows it is nobody's name ("Hi
    Team", "Thanks, The Acme Support Team")."""
    words = re.findall(r"[^\W\d_]+", match.group(2))
    # A name is capitalised ("hello i need help," greets nobody), and not in capitals only ("Hi ACME,").
    if any(w.lower() in _NOT_NAMES or not w[0].isupper() for w in words if w not in ("and", "und")) or all(
        w == w.upper() for w in words
    ):
        return match.group(0)
    return match.group(1) + NAME + match.group(0)[match.end(2) - match.start(0) :]

"""Split a plain-text email body into what the sender wrote, the quoted history and the signature.

`split_reply` is the one entry point. It runs on every message during ingest, so it scans the lines once,
uses only anchored, precompiled patterns on the few lines that could matter, and prefers leaving text in
`new_text` over guessing: a signature is only taken from the end of the last block of new text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReplyParts:
    """One message body, split three ways. Each part has trailing whitespace stripped; "" when absent."""

    new_text: str  # what the sender wrote in this message
    quoted_text: str  # the quoted history (attribution line included), "" if none
    signature: str  # the signature block, "" if none


# Segment kinds. A segment is [kind, first line, last line + 1]: a run of lines of one kind, blank lines inside
# it included, blank lines at either end not. Consecutive segments always differ in kind.
_NEW, _QUOTED = 1, 2

# First characters of unquoted lines that may open a history block without ending in ":" ("-----Original
# Message-----", "________________", "*From:* ..." from Gmail's plain-text forward, and "From:", "Von:", "De:",
# "Od:" whose colon is at index 2 to 4).
_MARKER_FIRST_CHARS = "-_*FVDO"

_HISTORY_BANNER = re.compile(
    r"-{2,}\s*(?:original\s+message|forwarded\s+message|ursprüngliche\s+nachricht|weitergeleitete\s+nachricht"
    r"|message\s+d'origine|message\s+transféré|mensaje\s+original|mensaje\s+reenviado|oorspronkelijk\s+bericht"
    r"|doorgestuurd\s+bericht|messaggio\s+originale|messaggio\s+inoltrato|mensagem\s+original"
    r"|mensagem\s+encaminhada)\b"
    r"|(?:begin\s+forwarded\s+message|anfang\s+der\s+weitergeleiteten\s+nachricht"
    r"|début\s+du\s+message\s+réexpédié|inicio\s+del\s+mensaje\s+reenviado)\s*:",
    re.IGNORECASE,
)

_HEADER_FROM_KEYS = ("From:", "Von:", "De:", "De :", "Van:", "Da:", "Från:", "Fra:", "Od:")
_HEADER_OTHER_KEYS = (
    "Sent:", "Date:", "To:", "Cc:", "CC:", "Subject:",
    "Gesendet:", "Datum:", "An:", "Betreff:",
    "Envoyé :", "Envoyé:", "Date :", "À :", "À:", "Cc :", "Objet :", "Objet:",
    "Enviado:", "Enviado el:", "Fecha:", "Para:", "Asunto:",
    "Verzonden:", "Aan:", "Onderwerp:",
    "Inviato:", "A:", "Oggetto:", "Data:",
    "Skickat:", "Till:", "Ämne:", "Sendt:", "Til:", "Emne:",
    "Wysłano:", "Do:", "Temat:",
)  # fmt: skip

# "On <date>, Ana <a@x> wrote:" and its translations. The intro word plus a digit (the date) plus the verb near
# the end is what makes an attribution safe to treat as the start of history even when no "> " follows.
_ATTRIBUTION_INTRO = re.compile(r"(?:On|Am|Le|El|Op|Il|Em|Den|Dne|Dnia|W\s+dniu|Pada|В)\s")
# Attribution verbs, matched with str methods: a regex search here costs more than the rest of the scan.
_VERB_ENDINGS = (
    "wrote:", "writes:", "a écrit :", "a écrit:", "escribió:", "escreveu:", "ha scritto:", "kirjoitti:",
    "napsal(a):", "napsal:", "napisał(a):", "napisał:", "skrev:", "пишет:", "написал:", "написала:",
)  # fmt: skip
_VERBS_BEFORE_NAME = ("schrieb ", "schreef ", "skrev ", "napisał ")  # "Am ... schrieb Ana <ana@example.com>:"
_DIGIT = re.compile(r"\d")
_MAX_ATTRIBUTION_CHARS = 300
_MAX_CHARS_AFTER_VERB = 90

_MOBILE_SIGNATURE = re.compile(
    r"sent\s+from\s+(?:my\s+)?\S.{0,60}|get\s+outlook\s+for\s+\S.{0,80}|von\s+meinem\s+.{1,40}\s+gesendet\.?"
    r"|envoyé\s+(?:de|depuis)\s+mon\s+.{1,40}|enviado\s+desde\s+mi\s+.{1,40}|enviado\s+do\s+meu\s+.{1,40}"
    r"|verzonden\s+(?:vanaf|met)\s+.{1,40}|inviato\s+da(?:l)?\s+.{1,40}",
    re.IGNORECASE,
)
_MOBILE_FIRST_CHARS = "SsGgVvEeIi"
# A closing salutation on a line of its own. "Thanks"/"Thank you" only count with a comma or bare: "Thanks!"
# followed by a sentence is more often part of the message than a sign-off.
_CLOSING = re.compile(
    r"(?:(?:with\s+)?(?:best|kind|warm|warmest|kindest|many)\s+(?:regards|wishes)|regards|best|cheers"
    r"|(?:yours\s+)?(?:sincerely|truly|faithfully)|sincerely\s+yours|respectfully|all\s+the\s+best|take\s+care"
    r"|thanks\s+(?:&|and)\s+regards|rgds|br|mit\s+freundlichen\s+gr(?:ü|ue|u)(?:ß|ss)en"
    r"|mit\s+freundlichem\s+gru(?:ß|ss)|(?:viele|beste|liebe|freundliche|herzliche|schöne)\s+gr(?:ü|ue)(?:ß|ss)e"
    r"|mfg|lg|vg|gr(?:ü|ue|u)(?:ß|ss)e?|(?:bien\s+)?cordialement|bien\s+à\s+(?:vous|toi)"
    r"|(?:meilleures\s+)?salutations|amicalement|(?:un\s+)?saludos?(?:\s+cordiales)?|(?:cordiales|muchos)\s+saludos"
    r"|atentamente|un\s+abrazo|abrazos|met\s+vriendelijke\s+groet(?:en)?|(?:hartelijke\s+)?groet(?:en|jes)?|mvg"
    r"|(?:cordiali|distinti)\s+saluti|saluti|atenciosamente|abraços)\s*[,.!]?"
    r"|(?:(?:many\s+)?thanks|thank\s+you|thx)(?:\s+again|\s+in\s+advance)?\s*,?",
    re.IGNORECASE,
)
_MAX_CLOSING_CHARS = 40
_MAX_LINES_AFTER_CLOSING = 4
_MAX_LINE_AFTER_CLOSING_CHARS = 60
_MAX_NAME_WORDS = 4
_MAX_LINES_AFTER_MOBILE = 2
# A "-- " signature may be longer than the text above it (corporate blocks), but not without bound.
_MAX_DELIMITED_SIGNATURE_LINES = 10

# Added by mailing-list software after the sender's text: Mailman footers, pipermail attachment stubs,
# r-help's "[[alternative HTML version deleted]]".
_ARCHIVE_MARKER = re.compile(r"\[\[(?:alternative\s.{1,40}\sdeleted|elided\s.{1,40})\]\]")
_FOOTER_SCAN_LINES = 20


def split_reply(text: str) -> ReplyParts:
    """Split an email body into the sender's new text, the quoted history and the signature.

    Quoted history is "> " lines, attribution lines ("On ... wrote:", "Am ... schrieb ...:") and everything
    after an Outlook header block or a forwarded-message banner. New text between quote blocks (an
    interleaved reply) stays new text; the blocks of one part are joined with a blank line between them.
    """
    # splitlines() also normalises \r\n and \r, and is cheaper than checking for them first.
    lines = text.splitlines()
    limit = _footer_start(lines)
    segments, candidates, delimiters = _scan(lines, limit, ">")
    if candidates and _mark_history(lines, segments, candidates, limit, pipe_quotes=False):
        # An attribution followed by "| " lines (Emacs/Gnus citation style): read "|" as a quote mark too.
        segments, candidates, delimiters = _scan(lines, limit, ">|")
        _mark_history(lines, segments, candidates, limit, pipe_quotes=True)
    signature = _take_signature(lines, segments, delimiters)
    if limit < len(lines):
        footer = "\n".join([line.rstrip() for line in lines[limit:]]).strip()
        signature = f"{signature}\n\n{footer}" if signature else footer
    new_parts: list[str] = []
    quoted_parts: list[str] = []
    for kind, start, end in segments:
        if start < end:
            (new_parts if kind == _NEW else quoted_parts).append("\n".join(lines[start:end]))
    return ReplyParts("\n\n".join(new_parts), "\n\n".join(quoted_parts), signature)


def _scan(lines: list[str], limit: int, quote_marks: str) -> tuple[list[list[int]], list[int], list[int]]:
    """One pass over the lines before `limit`: segments, unquoted lines worth a closer look, "-- " lines.

    Strips trailing whitespace from every line in place, so blank lines are "" from here on.
    """
    segments: list[list[int]] = []
    candidates: list[int] = []
    delimiters: list[int] = []
    marker_first_chars = _MARKER_FIRST_CHARS
    new_kind, quoted_kind = _NEW, _QUOTED  # locals: this loop is most of the cost of split_reply
    current = 0
    start = last = 0
    for i, line in enumerate(lines[:limit] if limit < len(lines) else lines):
        if not line:
            continue
        if line[-1] in " \t":
            line = line.rstrip()
            lines[i] = line
            if not line:
                continue
        first = line[0]
        if first in " \t":
            first = line.lstrip()[0]
        if first in quote_marks:
            if current != quoted_kind:
                if current:
                    segments.append([current, start, last + 1])
                current = quoted_kind
                start = i
        else:
            if line[-1] == ":" or (first in marker_first_chars and (first in "-_*" or ":" in line[2:5])):
                if line == "--":
                    delimiters.append(i)
                else:
                    candidates.append(i)
            if current != new_kind:
                if current:
                    segments.append([current, start, last + 1])
                current = new_kind
                start = i
        last = i
    if current:
        segments.append([current, start, last + 1])
    return segments, candidates, delimiters


def _mark_history(
    lines: list[str], segments: list[list[int]], candidates: list[int], limit: int, pipe_quotes: bool
) -> bool:
    """Move attribution lines into the quote they introduce; make everything after a history marker quoted.

    Returns True, changing nothing further, when an attribution is followed by "| " lines and `pipe_quotes`
    is off: the caller should scan again with "|" as a quote mark.
    """
    p = 0
    for i in candidates:
        while segments[p][2] <= i:
            p += 1
        segment = segments[p]
        if segment[0] != _NEW or i < segment[1]:
            continue
        line = lines[i].lstrip()
        first = line[0]
        if first == "-":
            if _HISTORY_BANNER.match(line):
                _cut(lines, segments, p, i)
                return False
            continue
        if first == "_":
            if len(line) >= 10 and not line.strip("_"):
                following = i + 1
                while following < limit and not lines[following]:
                    following += 1
                if following < limit and _opens_header_block(lines, following, limit):
                    _cut(lines, segments, p, i)
                    return False
            continue
        if line[-1] == ":":
            attribution = _attribution(lines, i, line, segment[1])
            if attribution is not None:
                start, strong = attribution
                if segment[2] == i + 1:
                    if p + 1 < len(segments):  # the next non-blank line is quoted
                        p = _quote_lines(lines, segments, p, start, i + 1)
                    elif strong:  # the message ends with it
                        _cut(lines, segments, p, start)
                        return False
                    continue
                if not pipe_quotes:
                    following = i + 1
                    while not lines[following]:
                        following += 1
                    if lines[following].lstrip()[0] == "|":
                        return True
                if p + 1 < len(segments):
                    # "> " quotes come later ("<snip>" or a note in between): the attribution belongs to them.
                    p = _quote_lines(lines, segments, p, start, i + 1)
                elif strong:
                    _cut(lines, segments, p, start)
                    return False
                continue
            if _HISTORY_BANNER.match(line):
                _cut(lines, segments, p, i)
                return False
        if first in _MARKER_FIRST_CHARS and _opens_header_block(lines, i, limit):
            _cut(lines, segments, p, i)
            return False
    return False


def _attribution(lines: list[str], i: int, line: str, segment_start: int) -> tuple[int, bool] | None:
    """(first line, strong) if the line ending in ":" at `i` introduces a quote; strong ones start history."""
    if len(line) > _MAX_ATTRIBUTION_CHARS:
        return None
    wrapped = i > segment_start and bool(lines[i - 1])
    if not _has_attribution_verb(line):
        if not _ends_with_address(line):
            return None
        # The date may sit on the line above: "2016-04-14 11:06 GMT+02:00" / "Ana <ana@example.com>:".
        if wrapped and _DIGIT.search(line) is None and _DIGIT.search(lines[i - 1]):
            return i - 1, False
        return i, False
    if _ATTRIBUTION_INTRO.match(line) and _DIGIT.search(line):
        return i, True
    # Wrapped by the sender's client: "On Mon, 5 Jan 2026 at 10:00, Ana Long-Name <ana@example.com>" / "wrote:".
    if wrapped:
        joined = f"{lines[i - 1].strip()} {line}"
        if len(joined) <= _MAX_ATTRIBUTION_CHARS and _ATTRIBUTION_INTRO.match(joined) and _DIGIT.search(joined):
            return i - 1, True
    return i, False


def _has_attribution_verb(line: str) -> bool:
    if line.endswith(_VERB_ENDINGS):
        return True
    tail = line[-_MAX_CHARS_AFTER_VERB:]
    return any(verb in tail for verb in _VERBS_BEFORE_NAME)


def _ends_with_address(line: str) -> bool:
    """Gmail's older attribution has no verb: "2016-04-14 11:06 GMT+02:00 Ana <ana@example.com>:"."""
    body = line[:-1].rstrip()
    if not body.endswith(">"):
        return False
    address = body[body.rfind("<") :]
    return "@" in address or " at " in address


def _opens_header_block(lines: list[str], i: int, limit: int) -> bool:
    """True for "From: ..." followed by at least two more header lines (Sent:, To:, Subject:, ...)."""
    line = lines[i].lstrip()
    if line[:1] == "*":  # Gmail's plain-text rendering of bold: "*From:* Ana"
        line = line.replace("*", "")
    if not line.startswith(_HEADER_FROM_KEYS):
        return False
    found = 0
    for j in range(i + 1, min(i + 7, limit)):
        other = lines[j].lstrip()
        if not other or other[0] == ">":
            return False
        if other[0] == "*":
            other = other.replace("*", "")
        if other.startswith(_HEADER_OTHER_KEYS):
            found += 1
            if found == 2:
                return True
    return False


def _quote_lines(lines: list[str], segments: list[list[int]], p: int, start: int, end: int) -> int:
    """Make lines [start, end) of new segment `p` quoted, merging with neighbouring quotes.

    Returns the index of the quoted segment that now holds them.
    """
    _, first, last = segments[p]
    before_end = _trim_back(lines, first, start)
    after_start = end
    while after_start < last and not lines[after_start]:
        after_start += 1
    pieces = [[_NEW, first, before_end]] if before_end > first else []
    pieces.append([_QUOTED, start, end])
    if after_start < last:
        pieces.append([_NEW, after_start, last])
    segments[p : p + 1] = pieces
    q = p + 1 if before_end > first else p
    if q + 1 < len(segments) and segments[q + 1][0] == _QUOTED:
        segments[q][2] = segments[q + 1][2]
        del segments[q + 1]
    if q > 0 and segments[q - 1][0] == _QUOTED:
        segments[q - 1][2] = segments[q][2]
        del segments[q]
        q -= 1
    return q


def _cut(lines: list[str], segments: list[list[int]], p: int, start: int) -> None:
    """Everything from line `start` (inside new segment `p`) to the end becomes one quoted segment."""
    end = segments[-1][2]
    segment = segments[p]
    del segments[p + 1 :]
    new_end = _trim_back(lines, segment[1], start)
    if new_end > segment[1]:
        segment[2] = new_end
        segments.append([_QUOTED, start, end])
        return
    del segments[p]
    if segments:  # the segment before a new one is a quote
        segments[-1][2] = end
    else:
        segments.append([_QUOTED, start, end])


def _trim_back(lines: list[str], floor: int, end: int) -> int:
    while end > floor and not lines[end - 1]:
        end -= 1
    return end


def _take_signature(lines: list[str], segments: list[list[int]], delimiters: list[int]) -> str:
    """Cut the signature off the end of the last new-text segment (shrinking it) and return it."""
    if not segments:
        return ""
    index = len(segments) - 1 if segments[-1][0] == _NEW else len(segments) - 2
    if index < 0:
        return ""
    _, start, end = segments[index]
    has_quote = len(segments) > 1

    def new_lines_before(line: int) -> int:
        earlier = sum(_content_lines(lines, s[1], s[2]) for s in segments[:index] if s[0] == _NEW)
        return earlier + _content_lines(lines, start, line)

    delimiter = None
    for candidate in delimiters:
        if start <= candidate < end:
            before = new_lines_before(candidate)
            after = _content_lines(lines, candidate + 1, end)
            if (before or has_quote) and after <= max(_MAX_DELIMITED_SIGNATURE_LINES, before):
                delimiter = candidate
                break

    sig_start = delimiter
    sign_off = _sign_off_start(lines, start, end if delimiter is None else delimiter)
    if sign_off is not None:
        line_index, is_closing = sign_off
        if (has_quote and not is_closing) or new_lines_before(line_index):
            sig_start = line_index
    if sig_start is None:
        return ""
    segments[index][2] = _trim_back(lines, start, sig_start)
    return "\n".join(lines[sig_start:end]).strip()


def _content_lines(lines: list[str], start: int, end: int) -> int:
    return end - start - lines[start:end].count("")


def _sign_off_start(lines: list[str], start: int, end: int) -> tuple[int, bool] | None:
    """(line, is_closing) of a closing salutation or mobile signature among the last lines of [start, end)."""
    found: tuple[int, bool] | None = None
    after = 0  # non-blank lines after line i
    longest_after = 0
    name = ""  # the first non-blank line after line i
    for i in range(end - 1, start - 1, -1):
        stripped = lines[i].strip()
        if not stripped:
            continue
        if (
            after <= _MAX_LINES_AFTER_MOBILE
            and stripped[0] in _MOBILE_FIRST_CHARS
            and _MOBILE_SIGNATURE.fullmatch(stripped)
        ):
            found = (i, False)
        elif (
            after
            and len(stripped) <= _MAX_CLOSING_CHARS
            and longest_after <= _MAX_LINE_AFTER_CLOSING_CHARS
            and _looks_like_name(name)
            and _CLOSING.fullmatch(stripped)
        ):
            found = (i, True)
        after += 1
        if after > _MAX_LINES_AFTER_CLOSING:
            break
        longest_after = max(longest_after, len(stripped))
        name = stripped
    return found


def _looks_like_name(line: str) -> bool:
    """A sign-off name line: short, a few words, not a sentence ("Bob", "Ana Lima", "Jesus.")."""
    words = line.count(" ") + 1
    if len(line) > _MAX_CLOSING_CHARS or words > _MAX_NAME_WORDS or line[-1] in "?!:,;":
        return False
    return line[-1] != "." or words <= 2


def _footer_start(lines: list[str]) -> int:
    """First line of a mailing-list footer or archive artefact after the last quoted line; len(lines) if none."""
    found = len(lines)
    seen = 0
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if not line:
            continue
        first = line[0]
        if first == " " or first == "\t":
            line = line.strip()
            if not line:
                continue
            first = line[0]
        if first == ">" or seen == _FOOTER_SCAN_LINES:
            break
        seen += 1
        if first == "[":
            if _ARCHIVE_MARKER.fullmatch(line.strip()):
                found = i
        elif first == "-":
            if line.startswith("-----") and "next part" in line:
                found = i
        elif first == "_":
            stripped = line.strip()
            if len(stripped) >= 10 and not stripped.strip("_"):
                following = " ".join(lines[i + 1 : i + 3]).lower()
                if "mailing list" in following or "listinfo" in following:
                    found = i
    return found

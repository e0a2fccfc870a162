"""Sentiment of customer messages and tickets: the default rule-based scorer and the ticket-level view.

The scorer needs no training: the support lexicon of `deskpulse.insight.sentiment_lexicon`, phrase rules for
what a help desk hears ("still not working", "third time", chargeback, lawyers, cancelling), negation,
intensifiers, capitals, repeated punctuation and "but". It reads only the new text of a message
(`messages.body_text`: quoted history and signature already removed), so an angry quote under a thankful reply
does not count. Every score comes with the reasons that made it. A trained model, when one exists, is applied by
`deskpulse.insight.sentiment_model`; this module also turns scored messages into ticket sentiment and trajectory.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import importlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deskpulse.insight import sentiment_lexicon as lexicon
from deskpulse.insight.sentiment_lexicon import PhraseRule

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
LABELS = (NEGATIVE, NEUTRAL, POSITIVE)

# The rules' identity: a hash of the lexicon and the rules, so a stored score says which rules made it and a
# changed lexicon rescores (see `method` in message_sentiment).


def _rules_fingerprint() -> str:
    rules = (
        sorted(lexicon.LEXICON.items()),
        lexicon.PHRASE_RULES,
        sorted(lexicon.INTENSIFIERS.items()),
        sorted(lexicon.NEGATORS),
        sorted(lexicon.POLITENESS),
        lexicon.CAPITALS_FACTOR,
        lexicon.BEFORE_BUT,
        lexicon.AFTER_BUT,
        lexicon.POLITENESS_IN_COMPLAINT,
        lexicon.NEGATION_WINDOW,
    )
    return hashlib.sha1(repr(rules).encode()).hexdigest()[:8]


RULES_ID = "rules@" + _rules_fingerprint()

# A raw sum of valences becomes a score in (−1, 1) through tanh(sum / SCALE): one strong complaint phrase
# (−2.4) gives −0.66, two give −0.92, a lone "issue" (−0.7) −0.23.
SCALE = 3.0
# Default label cut-offs on the score ([sentiment] negative_below / positive_above).
NEGATIVE_BELOW = -0.2
POSITIVE_ABOVE = 0.2
# At most this many reasons are kept per message: the strongest ones.
MAX_REASONS = 4

# Longer text is cut here: a pasted log or stack trace says nothing more about how the customer feels, and the
# scorer runs on every customer message of the store.
MAX_CHARS = 4000

# Links, addresses and handles are blanked before anything else: "@united" or "sue@example.org" are not words.
_SKIP = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|@\w+")
_TOKEN = re.compile(
    r"\w[\w']*"  # words
    r"|[:;>][-']?[()dD/](?!\w)|<3|[\U0001F300-\U0001FAFF\u2600-\u27BF]\ufe0f?"  # emoticons and emoji
    r"|[.;:,\n]+|[!?]+"  # punctuation that ends a clause
    r"|\x00\d+"  # a phrase rule's match, replaced by its number (see _phrases)
)
_WORDISH = re.compile(r"[\w']+")
_STOP_CHARS = frozenset(".;:,\n!?")
_SENTENCE_END = frozenset(".!?\n;")
_PHRASE, _STOP = "\x00", "."
_REPEATED_PUNCTUATION = re.compile(r"[!?]{2,}")
_CAPITAL_RUN = re.compile(r"[A-Z]{3}")
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_TRIPLED = re.compile(r"(.)\1\1")  # a cheap first test for _ELONGATED over a whole text
_BUT = frozenset({"but", "however", "though"})
_LOOKUP = frozenset(lexicon.LEXICON) | _BUT
# A message shouts when at least this share of its letters (and SHOUT_LETTERS of them) are capitals.
_SHOUT_SHARE = 0.6
_SHOUT_LETTERS = 12
# Valence of shouting when nothing positive is said: capitals are how angry customers write.
_SHOUT_VALENCE = -1.0
# A positive word alone in a sentence this short ("Great.", "Nice service.") in a message that otherwise
# complains is sarcasm.
_SARCASM_SENTENCE_WORDS = 2


def _required_literals(pattern: str) -> tuple[str, ...] | None:
    """Strings of which every match of ``pattern`` contains at least one; None when that cannot be told.

    Read from the parse tree of Python's own regular expression parser (an internal module: should it change,
    every rule is simply always tried)."""
    try:
        parser: Any = importlib.import_module("re._parser")
        constants: Any = importlib.import_module("re._constants")
        tree = parser.parse(pattern)
    except (ImportError, AttributeError, re.error):
        return None

    def required(items: Any) -> set[str] | None:
        best: set[str] | None = None
        run: list[str] = []

        def consider(candidate: set[str] | None) -> None:
            nonlocal best
            if candidate and (best is None or min(map(len, candidate)) > min(map(len, best))):
                best = candidate

        for op, argument in items:
            if op is constants.LITERAL:
                run.append(chr(argument))
                continue
            consider({"".join(run)} if run else None)
            run = []
            if op is constants.SUBPATTERN:
                consider(required(argument[-1]))
            elif op is constants.BRANCH:
                branches = [required(branch) for branch in argument[1]]
                if all(branch is not None for branch in branches):
                    consider(set().union(*(branch for branch in branches if branch is not None)))
            elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT) and argument[0] >= 1:
                consider(required(argument[2]))
        consider({"".join(run)} if run else None)
        return best

    found = required(tree)
    return tuple(sorted(found)) if found else None


def _top_level_branches(pattern: str) -> list[str]:
    """``a|b(?:c|d)|e`` → ``["a", "b(?:c|d)", "e"]``: the alternatives outside any group or character class."""
    branches, depth, start, index, in_class = [], 0, 0, 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
        index += 1
    return [*branches, pattern[start:]]


# The phrase rules, each alternative of each rule compiled on its own. Trying every alternative at every word
# is what costs time, so an alternative is tried only when a word of the text holds one of its required literals;
# which alternatives a word cues is remembered per word (`_cued_by`). Patterns use \s between words, so a literal
# never spans two words. The word boundary before a match is checked in Python, not by a lookbehind: a pattern
# that starts with a literal is then searched for by the regex engine's fast literal scan.
_ALTERNATIVES = tuple(
    (order, re.compile(rf"(?:{branch})(?![\w'])"), _required_literals(branch))
    for order, rule in enumerate(lexicon.PHRASE_RULES)
    for branch in _top_level_branches(rule.pattern)
)
_ALWAYS_TRIED = frozenset(index for index, (_, _, literals) in enumerate(_ALTERNATIVES) if literals is None)


@functools.lru_cache(maxsize=200_000)
def _cued_by(word: str) -> frozenset[int]:
    return frozenset(
        index
        for index, (_, _, literals) in enumerate(_ALTERNATIVES)
        if literals is not None and any(literal in word for literal in literals)
    )


def _phrase_matches(lower: str) -> list[tuple[int, int, PhraseRule]]:
    """The phrase matches that count, left to right. A match inside a longer one does not count ("still waiting"
    is one long wait, not also a persisting problem); two overlapping matches of one rule are one match ("will
    cancel" and "cancel my subscription"); matches of two rules that merely overlap both count: "still not
    working" is unresolved and broken."""
    cued = set(_ALWAYS_TRIED)
    for word in set(_WORDISH.findall(lower)):
        cued |= _cued_by(word)
    found = []
    for index in cued:
        order, pattern, _ = _ALTERNATIVES[index]
        position = 0
        while match := pattern.search(lower, position):
            start = match.start()
            if start and (lower[start - 1].isalnum() or lower[start - 1] in "_'"):
                position = start + 1  # inside a word: "not" in "cannot"
                continue
            found.append((start, order, match.end()))
            position = match.end()
    found.sort(key=lambda match: (match[0], -match[2], match[1]))  # leftmost, then longest, then listed first
    chosen: list[tuple[int, int, int]] = []
    for start, order, end in found:
        # Every chosen match starts at or before this one.
        if any(end <= other_end for _, _, other_end in chosen):
            continue
        same_rule = [
            index for index, (_, other, other_end) in enumerate(chosen) if other == order and start < other_end
        ]
        if same_rule:
            other_start, _, _ = chosen[same_rule[0]]
            chosen[same_rule[0]] = (other_start, order, end)
        else:
            chosen.append((start, order, end))
    return [(start, end, lexicon.PHRASE_RULES[order]) for start, order, end in chosen]


@dataclass(frozen=True, slots=True)
class MessageSentiment:
    """The sentiment of one message: a score in [−1, 1], its label, why, and the support signals found."""

    score: float
    label: str
    reasons: tuple[str, ...]
    signals: tuple[str, ...]  # PhraseRule.signal names, e.g. "chargeback"; flags look for the threats


@dataclass(slots=True)
class _Contribution:
    value: float
    reason: str  # the group it is explained under, e.g. "negative words"
    evidence: str  # the words that gave it
    polite: bool = False
    position: int = 0  # token number, to place it before or after a "but"
    sentence: int = 0
    single_word: bool = True  # a lexicon word, not a phrase rule


def label_for(score: float, negative_below: float = NEGATIVE_BELOW, positive_above: float = POSITIVE_ABOVE) -> str:
    if score < negative_below:
        return NEGATIVE
    if score > positive_above:
        return POSITIVE
    return NEUTRAL


def score_text(
    text: str | None, negative_below: float = NEGATIVE_BELOW, positive_above: float = POSITIVE_ABOVE
) -> MessageSentiment:
    """Score the new text of one customer message with the support lexicon and rules.

    Phrase rules go first and their words are taken out of the text; then one pass over the remaining words
    adds up the lexicon's valences with negation, intensifiers and capitals; then "but" clauses, politeness and
    sarcasm reweigh them, and shouting and repeated punctuation amplify the sum."""
    text = (text or "")[:MAX_CHARS].replace("\u2019", "'").replace("\u2018", "'")
    if "@" in text or "http" in text or "www." in text:
        text = _SKIP.sub(" ", text)
    if not text.strip():
        return MessageSentiment(0.0, NEUTRAL, (), ())
    phrases, signals, remaining = _phrases(text)
    contributions, but_spans, sentence_words = _words(remaining, phrases)
    for start, but, end in but_spans:
        for contribution in contributions:
            if start <= contribution.position < but:
                contribution.value *= lexicon.BEFORE_BUT
            elif but < contribution.position < end:
                contribution.value *= lexicon.AFTER_BUT
    _read_politeness_and_sarcasm(contributions, sentence_words)
    total = sum(c.value for c in contributions)
    extra_reasons: list[str] = []
    if _CAPITAL_RUN.search(text) and _shouting(text):
        total = total * lexicon.CAPITALS_FACTOR if total > 0 else total + _SHOUT_VALENCE * lexicon.CAPITALS_FACTOR
        extra_reasons.append("written in capitals")
        signals.append("capitals")
    exclamations = min(text.count("!"), 4)
    repeated = _REPEATED_PUNCTUATION.search(text) if exclamations or "?" in text else None
    emphasis = 1 + 0.08 * exclamations + (0.15 if repeated else 0.0)
    if repeated and total != 0:
        extra_reasons.append(f"repeated punctuation: '{repeated.group()}'")
        signals.append("punctuation")
    score = math.tanh(total * emphasis / SCALE)
    label = label_for(score, negative_below, positive_above)
    return MessageSentiment(round(score, 4), label, _reasons(contributions, label, extra_reasons), tuple(signals))


def _phrases(text: str) -> tuple[list[_Contribution], list[str], str]:
    """The phrase rules' contributions, the signals found, and the text with the words of each match (or run of
    overlapping matches) replaced by ``\x00<n>`` per contribution, so the word pass neither counts them again nor
    negates across them."""
    lower = text.lower()
    if len(lower) != len(text):  # a few characters lowercase to two ("İ"); offsets must stay the same
        lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    contributions: list[_Contribution] = []
    signals: list[str] = []
    pieces: list[str] = []
    covered_until = 0
    for start, end, rule in _phrase_matches(lower):
        if start >= covered_until:
            pieces.append(text[covered_until:start])
        covered_until = max(covered_until, end)
        pieces.append(" ")
        if rule.valence == 0:  # courtesy ("thanks in advance"): neither praise nor complaint
            continue
        written = text[start:end]
        value = rule.valence * (lexicon.CAPITALS_FACTOR if _has_capital_word(written) else 1.0)
        pieces.append(f"{_PHRASE}{len(contributions)} ")
        contributions.append(
            _Contribution(value, rule.reason, " ".join(written.split()), rule.polite, single_word=False)
        )
        if rule.signal not in signals:
            signals.append(rule.signal)
    pieces.append(text[covered_until:])
    return contributions, signals, "".join(pieces)


def _words(
    text: str, phrases: list[_Contribution]
) -> tuple[list[_Contribution], list[tuple[int, int, int]], list[int]]:
    """The phrases placed among the tokens, and the lexicon words weighed with their intensifiers, negators and
    capitals; also the "but" clauses (sentence start, "but", sentence end) and the number of words per sentence.

    Only the few tokens that matter (lexicon words, "but", phrases) are visited one by one; the rest is counted
    in bulk, as most words of a message carry no sentiment."""
    tokens = _TOKEN.findall(text)
    lowers = [token.lower() for token in tokens]
    stretched = _TRIPLED.search(text) is not None
    # Sentence k spans the tokens after sentence_ends[k - 1] up to sentence_ends[k].
    stops = [index for index, token in enumerate(tokens) if token[0] in _STOP_CHARS]
    sentence_ends = [index for index in stops if tokens[index][0] in _SENTENCE_END] + [len(tokens)]
    sentence_words = []
    previous_end = -1
    for end in sentence_ends:
        punctuation = bisect.bisect_left(stops, end) - bisect.bisect_right(stops, previous_end)
        sentence_words.append(end - previous_end - 1 - punctuation)
        previous_end = end
    contributions: list[_Contribution] = []
    buts: list[int] = []
    for index, word in enumerate(lowers):
        if word in _LOOKUP or word[0] == _PHRASE or (stretched and _ELONGATED.search(word)):
            sentence = bisect.bisect_left(sentence_ends, index)
            if word[0] == _PHRASE:
                phrase = phrases[int(word[1:])]
                phrase.position, phrase.sentence = index, sentence
                contributions.append(phrase)
            elif word in _BUT:
                buts.append(index)
            else:
                contribution = _word_contribution(tokens, lowers, index)
                if contribution is not None:
                    contribution.sentence = sentence
                    contributions.append(contribution)
    but_spans: list[tuple[int, int, int]] = []
    for but in buts:
        sentence = bisect.bisect_left(sentence_ends, but)
        start = sentence_ends[sentence - 1] if sentence else -1
        if not but_spans or but_spans[-1][0] != start:  # the first "but" of a sentence divides it
            but_spans.append((start, but, sentence_ends[sentence]))
    return contributions, but_spans, sentence_words


def _word_contribution(tokens: list[str], lowers: list[str], index: int) -> _Contribution | None:
    token, word = tokens[index], lowers[index]
    valence = lexicon.LEXICON.get(word)
    factor = 1.0
    if valence is None:
        valence = _stretched_valence(word)
        if valence is None:
            return None
        factor = 1.2
    if len(token) >= 3 and token.isupper():
        factor *= lexicon.CAPITALS_FACTOR
    negator = None
    for back in range(1, min(lexicon.NEGATION_WINDOW, index) + 1):
        before = lowers[index - back]
        if before[0] in _STOP_CHARS or before[0] == _PHRASE or before in _BUT:
            break
        if back <= 2:
            factor *= lexicon.INTENSIFIERS.get(before, 1.0)
        if before in lexicon.NEGATORS:
            negator = before
            break
    if negator is not None:
        # "not happy" is clearly negative; "not bad" only faintly positive.
        value = -valence * (0.7 if valence > 0 else 0.4) * factor
        evidence = negator + (" " if lowers[index - 1] == negator else " … ") + token
        return _Contribution(value, "negated", evidence, False, index)
    reason = "negative words" if valence < 0 else "positive words"
    return _Contribution(valence * factor, reason, token, word in lexicon.POLITENESS, index)


def _stretched_valence(word: str) -> float | None:
    """The valence of a stretched word ("sooo", "baaad"): its letter runs cut to one, else to two."""
    for collapsed in (_ELONGATED.sub(r"\1", word), _ELONGATED.sub(r"\1\1", word)):
        valence = lexicon.LEXICON.get(collapsed)
        if valence is not None:
            return valence
    return None


def _has_capital_word(text: str) -> bool:
    return any(len(word) >= 3 and word.isupper() for word in text.split())


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= _SHOUT_LETTERS and sum(map(str.isupper, letters)) >= _SHOUT_SHARE * len(letters)


def _read_politeness_and_sarcasm(contributions: list[_Contribution], sentence_words: list[int]) -> None:
    """In a message that complains, thanks are manners (they count a quarter) and a bare "Great." is sarcasm."""
    if not any(c.value < 0 for c in contributions):
        return
    for contribution in contributions:
        if contribution.value <= 0:
            continue
        if contribution.polite:
            contribution.value *= lexicon.POLITENESS_IN_COMPLAINT
        elif (
            contribution.single_word
            and sentence_words[contribution.sentence] <= _SARCASM_SENTENCE_WORDS
            and any(c.value < 0 and c.sentence != contribution.sentence for c in contributions)
        ):
            contribution.value = -contribution.value
            contribution.reason = "sarcasm"


def _reasons(contributions: list[_Contribution], label: str, extra: list[str]) -> tuple[str, ...]:
    """The strongest groups of evidence pointing the way of the label, e.g. "still not resolved: 'still
    waiting'"; nothing for a neutral message."""
    if label == NEUTRAL:
        return ()
    sign = -1 if label == NEGATIVE else 1
    groups: dict[str, tuple[float, list[str]]] = {}
    for contribution in contributions:
        if contribution.value * sign <= 0:
            continue
        weight, evidence = groups.get(contribution.reason, (0.0, []))
        if contribution.evidence not in evidence:
            evidence.append(contribution.evidence)
        groups[contribution.reason] = (weight + abs(contribution.value), evidence)
    ranked = sorted(groups.items(), key=lambda item: -item[1][0])
    reasons = [f"{name}: " + ", ".join(f"'{e}'" for e in evidence[:3]) for name, (_, evidence) in ranked]
    return tuple([*reasons, *extra][:MAX_REASONS])


# --- tickets -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketSentiment:
    """A ticket's sentiment from its customer messages, oldest first."""

    score: float  # recency-weighted mean of the message scores
    label: str
    customer_messages: int
    first_score: float
    last_score: float
    lowest_score: float

    @property
    def change(self) -> float:
        """Latest minus first customer message: below zero the customer is getting angrier."""
        return round(self.last_score - self.first_score, 4)


def ticket_sentiment(
    scores: Sequence[float], negative_below: float = NEGATIVE_BELOW, positive_above: float = POSITIVE_ABOVE
) -> TicketSentiment:
    """Aggregate the scores of a ticket's customer messages, oldest first.

    The mean weighs the k-th message k times: how the customer feels now matters more than how they began, yet
    one calm last line does not erase a thread of anger."""
    if not scores:
        raise ValueError("a ticket without customer messages has no sentiment")
    weights = range(1, len(scores) + 1)
    score = round(sum(w * s for w, s in zip(weights, scores, strict=True)) / sum(weights), 4)
    return TicketSentiment(
        score=score,
        label=label_for(score, negative_below, positive_above),
        customer_messages=len(scores),
        first_score=scores[0],
        last_score=scores[-1],
        lowest_score=min(scores),
    )

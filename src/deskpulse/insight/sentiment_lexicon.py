"""The word lists and phrase rules of the default sentiment scorer, written for support conversations.

Valences run from −3 (furious) to +3 (delighted). The lists are deskpulse's own, written for what customers
write to a help desk: problems that persist, money and churn, waiting, repeated contact. Generic opinion words
are there too, but with support weights: "issue" and "problem" are mildly negative (a customer rarely writes
about one without wanting it gone), "thanks" is positive but politeness inside a complaint does not cancel it
(see `deskpulse.insight.sentiment`). Phrase rules run before the words and take their words out of the word
count, so "not working" is one signal, not a negated "working".
"""

from __future__ import annotations

from dataclasses import dataclass

# --- single words --------------------------------------------------------------------------------------------

_NEGATIVE_WORDS: dict[str, float] = {
    # something broke or went wrong
    "problem": -1.0,
    "problems": -1.0,
    "issue": -0.7,
    "issues": -0.7,
    "error": -1.2,
    "errors": -1.2,
    "bug": -1.2,
    "bugs": -1.2,
    "buggy": -1.8,
    "glitch": -1.2,
    "glitches": -1.2,
    "crash": -1.6,
    "crashes": -1.6,
    "crashed": -1.6,
    "crashing": -1.6,
    "broken": -2.0,
    "broke": -1.5,
    "breaks": -1.2,
    "fail": -1.8,
    "fails": -1.6,
    "failed": -1.6,
    "failing": -1.6,
    "failure": -1.8,
    "faulty": -1.8,
    "defective": -2.0,
    "damaged": -2.0,
    "damage": -1.5,
    "corrupted": -1.8,
    "malfunction": -1.8,
    "outage": -1.8,
    "unusable": -2.4,
    "unstable": -1.4,
    "freezes": -1.4,
    "frozen": -1.2,
    "stuck": -1.6,
    "locked": -1.0,
    "lost": -1.6,
    "missing": -1.4,
    "wrong": -1.5,
    "incorrect": -1.4,
    "mistake": -1.3,
    "mistakes": -1.3,
    "declined": -1.2,
    "rejected": -1.3,
    "denied": -1.5,
    "unable": -1.2,
    "impossible": -1.8,
    "spam": -1.2,
    "virus": -1.2,
    "hacked": -2.0,
    "destroyed": -2.2,
    "ruined": -2.4,
    "ruin": -2.0,
    "ruins": -2.0,
    "miss": -0.8,
    "missed": -1.4,
    "disconnected": -1.6,
    "dropped": -1.2,
    "endless": -1.4,
    "endlessly": -1.4,
    "confusion": -1.2,
    "deficiency": -1.6,
    "unfortunately": -1.2,
    "unfortunate": -1.4,
    # delays and waiting
    "delay": -1.4,
    "delays": -1.4,
    "delayed": -1.6,
    "late": -1.3,
    "overdue": -1.6,
    "waiting": -1.0,
    "waited": -1.3,
    "wait": -0.7,
    "slow": -1.4,
    "slower": -1.2,
    "slowest": -1.8,
    "forever": -1.2,
    "ages": -0.8,
    "cancelled": -1.6,
    "canceled": -1.6,
    "cancellation": -1.4,
    "stranded": -2.2,
    "hold": -0.6,
    "queue": -0.5,
    "ignored": -2.2,
    "ignoring": -2.2,
    "ignore": -1.5,
    "unanswered": -2.0,
    "unreachable": -1.8,
    # money
    "overcharged": -2.4,
    "overcharge": -2.2,
    "charged": -0.8,
    "fee": -0.6,
    "fees": -0.7,
    "expensive": -1.2,
    "overpriced": -1.8,
    "scam": -3.0,
    "scammed": -3.0,
    "fraud": -3.0,
    "fraudulent": -3.0,
    "ripoff": -2.8,
    "stolen": -2.4,
    "steal": -2.2,
    "stealing": -2.4,
    "theft": -2.4,
    "unauthorized": -2.0,
    "unauthorised": -2.0,
    "ripped": -2.0,
    "rob": -2.2,
    "robbed": -2.6,
    # feelings
    "angry": -2.4,
    "furious": -3.0,
    "livid": -3.0,
    "mad": -2.0,
    "upset": -2.0,
    "annoyed": -1.8,
    "annoying": -1.8,
    "irritated": -1.8,
    "irritating": -1.8,
    "frustrated": -2.2,
    "frustrating": -2.2,
    "frustration": -2.0,
    "disappointed": -2.2,
    "disappointing": -2.2,
    "disappointment": -2.2,
    "unhappy": -2.0,
    "dissatisfied": -2.2,
    "unsatisfied": -2.0,
    "sad": -1.4,
    "worried": -1.2,
    "concerned": -0.8,
    "confused": -1.0,
    "confusing": -1.2,
    "stressed": -1.6,
    "stressful": -1.8,
    "fed": -0.6,
    "sick": -1.2,
    "tired": -1.0,
    "hate": -2.6,
    "hated": -2.4,
    "hates": -2.4,
    "sorry": -0.3,
    "regret": -1.8,
    "embarrassing": -2.0,
    "embarrassed": -1.8,
    "shocked": -1.8,
    "appalled": -2.8,
    "outraged": -2.8,
    "outrageous": -2.8,
    "disgusted": -2.8,
    "disgusting": -2.8,
    "insulted": -2.4,
    "insulting": -2.4,
    "betrayed": -2.6,
    "helpless": -1.8,
    "desperate": -2.0,
    "fuming": -2.8,
    "frustrations": -2.0,
    "pissed": -2.6,
    "crazy": -1.2,
    "insane": -1.6,
    "unreal": -1.2,
    "unbelievable": -1.8,
    "yelled": -2.0,
    "screamed": -2.0,
    "shouted": -1.8,
    "unwilling": -1.8,
    "apology": -1.0,
    "nasty": -2.2,
    "attitude": -1.0,
    "wretched": -2.6,
    "odd": -0.6,
    "stole": -2.2,
    "hostage": -1.8,
    "killing": -1.4,
    # judgements of the service
    "bad": -1.8,
    "worse": -2.2,
    "worst": -3.0,
    "poor": -1.8,
    "poorly": -1.8,
    "terrible": -2.8,
    "horrible": -2.8,
    "awful": -2.8,
    "dreadful": -2.6,
    "atrocious": -3.0,
    "abysmal": -3.0,
    "appalling": -2.8,
    "pathetic": -2.6,
    "ridiculous": -2.4,
    "absurd": -2.2,
    "unacceptable": -2.8,
    "inexcusable": -2.8,
    "unprofessional": -2.4,
    "incompetent": -2.6,
    "incompetence": -2.6,
    "useless": -2.6,
    "unhelpful": -2.2,
    "rude": -2.4,
    "rudely": -2.4,
    "careless": -2.0,
    "lazy": -2.0,
    "clueless": -2.2,
    "shameful": -2.6,
    "shame": -1.8,
    "disgrace": -2.8,
    "disgraceful": -2.8,
    "nightmare": -2.6,
    "disaster": -2.6,
    "mess": -1.8,
    "chaos": -2.0,
    "joke": -1.8,
    "lousy": -2.2,
    "crappy": -2.4,
    "crap": -2.4,
    "sucks": -2.4,
    "suck": -2.2,
    "garbage": -2.4,
    "trash": -2.2,
    "rubbish": -2.2,
    "misleading": -2.0,
    "lied": -2.4,
    "lie": -1.8,
    "lies": -2.2,
    "lying": -2.4,
    "dishonest": -2.6,
    "inconvenience": -1.4,
    "inconvenient": -1.4,
    "hassle": -1.6,
    "annoyance": -1.6,
    "complaint": -1.6,
    "complain": -1.6,
    "complaining": -1.4,
    "horrendous": -3.0,
    "inadequate": -2.0,
    "neglect": -2.0,
    "neglected": -2.0,
    "excuse": -0.6,
    "excuses": -1.6,
    "nonsense": -2.0,
    "refuse": -1.6,
    "refused": -2.0,
    "refuses": -1.8,
    "refusing": -2.0,
    "hell": -2.2,
    "damn": -1.8,
    "wtf": -2.6,
    "smh": -1.8,
    "ugh": -1.8,
    "argh": -1.8,
    "seriously": -0.8,
    "fuck": -2.8,
    "fucking": -2.6,
    "fucked": -2.8,
    "shit": -2.6,
    "shitty": -2.8,
    "bullshit": -2.8,
    "screwed": -2.4,
    "bs": -2.0,
    "why": -0.4,
    "finally": -0.4,
    "noone": -1.2,
    "no": -0.4,
    "again": -0.6,
    "never": -0.8,
    "nobody": -1.2,
    "nothing": -0.6,
    "cancel": -1.4,
    "unsubscribe": -1.0,
    "compensation": -1.2,
    "compensate": -1.0,
    "refund": -1.2,
    "reimburse": -1.0,
    "reimbursement": -1.2,
    "escalate": -1.6,
    "escalated": -1.4,
    "escalation": -1.4,
    "unfair": -2.2,
    "unreliable": -2.2,
    "pointless": -2.0,
    "waste": -2.2,
    "wasted": -2.2,
    "wasting": -2.2,
    "fault": -1.4,
}

_POSITIVE_WORDS: dict[str, float] = {
    # thanks and praise
    "thanks": 1.6,
    "thank": 1.6,
    "thx": 1.4,
    "ty": 1.2,
    "grateful": 2.2,
    "appreciate": 2.0,
    "appreciated": 2.0,
    "appreciation": 2.0,
    "kudos": 2.4,
    "cheers": 1.0,
    "bravo": 2.4,
    "good": 1.6,
    "great": 2.2,
    "awesome": 2.6,
    "amazing": 2.6,
    "excellent": 2.8,
    "fantastic": 2.8,
    "wonderful": 2.6,
    "brilliant": 2.6,
    "superb": 2.8,
    "outstanding": 2.8,
    "exceptional": 2.6,
    "perfect": 2.4,
    "perfectly": 2.0,
    "lovely": 2.2,
    "love": 2.4,
    "loved": 2.4,
    "loving": 2.0,
    "nice": 1.6,
    "cool": 1.2,
    "best": 2.2,
    "better": 0.6,
    "impressed": 2.4,
    "impressive": 2.4,
    "terrific": 2.6,
    "stellar": 2.6,
    "phenomenal": 2.8,
    "incredible": 2.2,
    "beautiful": 2.0,
    "glad": 2.0,
    "happy": 2.2,
    "pleased": 2.0,
    "delighted": 2.8,
    "satisfied": 1.8,
    "thrilled": 2.6,
    "excited": 1.8,
    "relieved": 1.8,
    "enjoy": 1.8,
    "enjoyed": 1.8,
    "recommend": 1.8,
    "recommended": 1.6,
    "favorite": 2.0,
    "favourite": 2.0,
    "fan": 1.2,
    "win": 1.4,
    "wow": 1.6,
    "yay": 2.0,
    "congrats": 2.0,
    "congratulations": 2.0,
    # what a customer says when support went well
    "helpful": 2.2,
    "helped": 1.6,
    "friendly": 2.0,
    "kind": 1.8,
    "kindly": 0.6,
    "polite": 1.6,
    "patient": 1.6,
    "professional": 1.6,
    "courteous": 2.0,
    "responsive": 1.8,
    "attentive": 1.8,
    "quick": 1.4,
    "quickly": 1.2,
    "fast": 1.2,
    "prompt": 1.6,
    "promptly": 1.6,
    "speedy": 1.6,
    "efficient": 1.8,
    "smooth": 1.6,
    "smoothly": 1.6,
    "easy": 1.4,
    "easier": 1.2,
    "seamless": 2.0,
    "resolved": 1.6,
    "solved": 1.8,
    "fixed": 1.6,
    "sorted": 1.4,
    "works": 0.6,
    "worked": 1.2,
    "reliable": 1.6,
    "safe": 1.0,
    "comfortable": 1.6,
    "awesomeness": 2.6,
    "rocks": 1.8,
    "hero": 2.2,
    "lifesaver": 2.8,
    "legend": 2.2,
    "superstar": 2.6,
    "ok": 0.3,
    "okay": 0.3,
    "fine": 0.6,
    "welcome": 1.0,
    "success": 1.8,
    "successful": 1.8,
    "successfully": 1.6,
    "nicely": 1.6,
    "finest": 2.0,
    "encouraged": 1.4,
    "encouraging": 1.4,
    "willing": 1.0,
}

# Emoticons and emoji that customers use in chat and social support.
_SYMBOLS: dict[str, float] = {
    ":)": 1.6, ":-)": 1.6, ":d": 2.0, ":-d": 2.0, ";)": 1.2, "<3": 2.2, ":(": -1.8, ":-(": -1.8, ":'(": -2.2,
    ":/": -1.2, ":-/": -1.2, ">:(": -2.6,
    "🙂": 1.6, "😊": 2.0, "😀": 2.0, "😃": 2.0, "😁": 2.0, "😍": 2.6, "❤": 2.2, "❤️": 2.2, "👍": 1.8, "🙏": 1.4,
    "👏": 2.0, "🎉": 2.0, "😞": -2.0, "😢": -2.0, "😭": -2.4, "😠": -2.6, "😡": -2.8, "🤬": -3.0, "👎": -2.2,
    "😤": -2.4, "🙄": -1.8, "😒": -1.8, "💩": -2.4, "😔": -1.6, "😩": -2.0, "😫": -2.0, "😑": -1.2, "😕": -1.2,
    "🙁": -1.6, "☹": -1.8, "☹️": -1.8, "👌": 1.6, "💯": 1.2, "😉": 1.0,
}  # fmt: skip

LEXICON: dict[str, float] = {**_NEGATIVE_WORDS, **_POSITIVE_WORDS, **_SYMBOLS}

# Words of thanks and courtesy: inside a complaint ("still broken. Thanks") they are manners, not praise.
POLITENESS = frozenset({"thanks", "thank", "thx", "ty", "cheers", "appreciate", "appreciated", "kindly", "welcome"})

# --- modifiers -----------------------------------------------------------------------------------------------

# A negator within NEGATION_WINDOW words before a sentiment word reverses it ("not happy", "never helpful").
NEGATORS = frozenset(
    {
        "not", "no", "never", "neither", "nor", "none", "nobody", "nothing", "nowhere", "without", "cannot",
        "cant", "can't", "dont", "don't", "doesnt", "doesn't", "didnt", "didn't", "isnt", "isn't", "wasnt",
        "wasn't", "arent", "aren't", "werent", "weren't", "wont", "won't", "wouldnt", "wouldn't", "couldnt",
        "couldn't", "shouldnt", "shouldn't", "havent", "haven't", "hasnt", "hasn't", "hadnt", "hadn't", "aint",
        "ain't", "barely", "hardly",
    }
)  # fmt: skip
NEGATION_WINDOW = 3

# Multipliers on the next sentiment word (within two words): "very slow", "extremely rude", "a bit slow".
INTENSIFIERS: dict[str, float] = {
    "very": 1.3, "really": 1.3, "so": 1.3, "too": 1.25, "extremely": 1.5, "incredibly": 1.5, "absolutely": 1.5,
    "totally": 1.4, "completely": 1.4, "utterly": 1.5, "super": 1.3, "highly": 1.3, "truly": 1.3,
    "seriously": 1.3, "beyond": 1.4, "such": 1.2, "most": 1.2, "hugely": 1.4, "terribly": 1.5, "awfully": 1.4,
    "insanely": 1.5, "ridiculously": 1.5, "exceptionally": 1.4, "especially": 1.2, "even": 1.15,
    "slightly": 0.6, "somewhat": 0.6, "bit": 0.6, "little": 0.7, "kinda": 0.7, "fairly": 0.8, "pretty": 1.1,
    "quite": 1.1, "rather": 0.9, "mostly": 0.8, "partly": 0.6, "almost": 0.8,
}  # fmt: skip

# A sentiment word written in capitals ("WORST") counts this much more; so does a message in capitals.
CAPITALS_FACTOR = 1.5
# Before "but" a clause counts less, after it more: "the agent was nice, but it is still broken".
BEFORE_BUT = 0.5
AFTER_BUT = 1.3
# Politeness inside a message that also complains counts this fraction of its valence.
POLITENESS_IN_COMPLAINT = 0.25

# --- phrase rules --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhraseRule:
    """A support signal found by a regular expression (matched on lowercased text, word boundaries added).

    ``signal`` is the machine-readable name stored with the score (flags look for the threat signals);
    ``reason`` is how the explanation names it."""

    signal: str
    reason: str
    pattern: str
    valence: float
    polite: bool = False  # courtesy: inside a complaint it counts POLITENESS_IN_COMPLAINT of its valence


# Threat signals: any of them flags the ticket for review when `[sentiment] flag_threats` is on.
THREAT_SIGNALS = frozenset({"chargeback", "legal", "churn"})

_NOT = (
    r"(?:not|never|no|cannot|can't|cant|don't|dont|doesn't|doesnt|didn't|didnt|isn't|isnt|wasn't|wasnt|won't|wont"
    r"|haven't|havent|hasn't|hasnt|aren't|arent|couldn't|couldnt|barely|hardly)"
)
_AUX = r"(?:is|are|was|were|has|have|had|does|do|did|will|would|can|could|it|it's|its|still|yet|i|we)"

PHRASE_RULES: tuple[PhraseRule, ...] = (
    # money back through the bank, lawyers, leaving: the conversations a manager must see first
    PhraseRule(
        "chargeback",
        "chargeback threat",
        r"charge\s?backs?|dispute\s+(?:the|this|a|my|these)\s+(?:charges?|payments?|transactions?)"
        r"|(?:call|contact|contacting|calling|tell|telling|report\w*\s+(?:this|you|it)\s+to)\s+(?:my|the)\s+"
        r"(?:bank|credit\s+card\s+company|card\s+issuer)|reverse\s+(?:the|this)\s+(?:charge|payment)",
        -3.5,
    ),
    PhraseRule(
        "legal",
        "legal threat",
        r"lawyers?|attorneys?|solicitors?|legal\s+(?:action|steps|proceedings|advice|department)|lawsuits?"
        r"|sue\s+(?:you|your|them|the\s+company)|suing|small\s+claims|court|better\s+business\s+bureau|bbb"
        r"|consumer\s+(?:protection|rights|affairs)|ombudsman|trading\s+standards|ftc|attorney\s+general"
        r"|report\s+(?:you|this|your\s+company)\s+to",
        -3.5,
    ),
    PhraseRule(
        "churn",
        "threatens to leave",
        r"(?:cancel|canceling|cancelling|close|closing|terminate|terminating|end|ending|delete)\s+"
        r"(?:my|our|the)\s+(?:account|subscription|membership|contract|service|plan|business)"
        r"|(?:switch|switching|move|moving|go|going)\s+(?:over\s+)?to\s+(?:a\s+|another\s+|your\s+)?"
        r"(?:competitor|competition|different\s+(?:company|provider|airline|bank|service))"
        r"|(?:take|taking|took)\s+(?:my|our)\s+business\s+elsewhere"
        r"|(?:lost|losing|lose)\s+(?:a\s+|another\s+|my\s+|our\s+)?(?:loyal\s+)?(?:customers?|business)"
        r"|last\s+(?:dollar|penny|cent|time)\s+(?:you|i)"
        r"|never\s+(?:again|(?:use|fly|buy|order|shop|book|recommend)\w*\s+(?:\w+\s+){0,3}again)"
        r"|last\s+time\s+i\s+(?:use|fly|buy|order|shop|book)|done\s+with\s+(?:you|your|this)"
        r"|(?:will|i'll|gonna|going\s+to)\s+(?:be\s+)?(?:leaving|leave|cancel\w*)",
        -3.0,
    ),
    PhraseRule(
        "repeat_contact",
        "repeat contact",
        r"(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|6th|\d+th|umpteenth|nth|another)\s+time"
        r"|(?:several|multiple|many|numerous|countless|two|three|four|five|\d+)\s+(?:times|emails|calls|tickets)"
        r"|how\s+many\s+(?:more\s+)?times|again\s+and\s+again|yet\s+again|once\s+again|over\s+and\s+over"
        r"|(?:already|previously)\s+(?:told|explained|sent|called|emailed|contacted|reported|asked)"
        r"|as\s+i\s+(?:said|mentioned|explained|wrote)|(?:keep|keeps|kept)\s+(?:asking|telling|calling|emailing"
        r"|happening|getting|having|crashing|failing|breaking)|(?:bounced|passed|transferred|sent)\s+(?:me\s+)?"
        r"(?:around|back\s+and\s+forth|from\s+\w+\s+to)|run\s*-?around|(?:fed\s+up|sick\s+(?:and\s+tired\s+)?of"
        r"|tired\s+of|had\s+enough|enough\s+is\s+enough|last\s+straw)",
        -2.2,
    ),
    PhraseRule(
        "unresolved",
        "still not resolved",
        r"still\s+(?:not|no|n't|isn't|isnt|doesn't|doesnt|can't|cant|cannot|haven't|havent|hasn't|hasnt|won't"
        r"|wont|didn't|didnt|broken|waiting|missing|nothing|unable|stuck|down|the\s+same|having|getting|no\s+sign)"
        rf"|{_NOT}\s+(?:been\s+|yet\s+|even\s+)*(?:receive|received|arrive|arrived|deliver|delivered|ship|shipped"
        r"|refund|refunded|fix|fixed|resolve|resolved|solve|solved|credited|processed|returned|restored|answer"
        r"|answered|respond|responded|reply|replied|hear|heard|get\s+(?:a|an|any|my)|got\s+(?:a|an|any|my))"
        r"|(?:never|nothing)\s+(?:arrived|came|showed\s+up|got\s+(?:back|fixed|resolved)|happened|heard)",
        -2.4,
    ),
    PhraseRule(
        "broken",
        "something does not work",
        rf"{_NOT}\s+(?:even\s+)?(?:work|working|works|load|loading|open|opening|connect|connecting|function"
        rf"|functioning|log\s*in|login|sign\s+in|access|charge|charging|turn\s+on|start|boot)"
        r"|stopped\s+(?:working|functioning|loading|responding)|won't\s+(?:load|open|start|work)"
        r"|(?:can't|cant|cannot|unable\s+to)\s+(?:get\s+(?:in|through|a?hold\s+of|to\s+(?:anyone|someone|a|an))"
        r"|log|sign|access|reach|find|use)|(?:hung|hangs|hanging)\s+up\s+on|(?:dropped|dropping|drops)\s+(?:my\s+)?calls?"
        r"|(?:site|website|app|system|server|service|network|portal|page)\s+(?:is\s+|was\s+|still\s+)*down",
        -2.0,
    ),
    PhraseRule(
        "billing_error",
        "charged wrongly",
        r"(?:charged|billed)\s+(?:me\s+)?(?:twice|double|two\s+times|again|for\s+nothing|without)"
        r"|double[\s-]+(?:charged|billed|charge)|(?:extra|hidden|unexpected)\s+(?:charges?|fees?)",
        -2.2,
    ),
    PhraseRule(
        "expected_better",
        "expected better",
        r"(?:do|expect|expected|expecting|deserve|deserved)\s+(?:much\s+|a\s+lot\s+|way\s+)?better"
        r"|(?:should|shouldn't|shouldnt)\s+(?:have\s+to|be\s+this\s+hard)|how\s+(?:is|can)\s+(?:this|that)"
        r"\s+(?:be\s+)?(?:acceptable|okay|ok|legal|possible)|(?:would|could|should)\s+(?:have|'ve)\s+(?:been\s+)?"
        r"(?:nice|helpful|helped|great|good|appreciated|told|informed|warned|known)|get\s+(?:it|your\s+act)\s+together",
        -2.0,
    ),
    PhraseRule(
        "unacceptable",
        "not acceptable",
        r"(?:not|isn't|isnt|wasn't|wasnt|never|hardly)\s+(?:ok|okay|acceptable|fair|right|good\s+enough|normal"
        r"|professional|what\s+i\s+(?:paid|expected|ordered|asked))",
        -2.4,
    ),
    PhraseRule(
        "no_help",
        "no help",
        r"no\s+(?:help|assistance|support|solution|explanation|apology|compensation|answers?)"
        r"|(?:didn't|did\s+not|don't|do\s+not|won't|doesn't|wouldn't)\s+(?:even\s+)?(?:help|care|bother|listen)",
        -2.0,
    ),
    PhraseRule(
        "waiting",
        "long wait",
        r"(?:on\s+hold|waiting|waited|wait)\s+(?:for\s+)?(?:over\s+|more\s+than\s+|almost\s+|nearly\s+)?"
        r"(?:an?\s+|\d+\+?\s+|one\s+|two\s+|three\s+|four\s+|five\s+|several\s+|many\s+)"
        r"(?:hours?|hrs?|days?|weeks?|months?|mins?|minutes)"
        r"|(?:no|zero|without\s+(?:a|any))\s+(?:response|reply|answer|update|word|call\s*back|follow\s*-?up)"
        r"|(?:no\s*one|nobody|no\s+body)\s+(?:has\s+|ever\s+)?(?:replied|replies|responded|responds|answered"
        r"|answers|called|calls|got\s+back|gets\s+back|helped|helps|cares|picks\s+up)|(?:haven't|havent|not|never)\s+(?:\w+\s+)?heard\s+(?:back|anything)"
        r"|(?:still|been|keep)\s+waiting|hours?\s+on\s+hold|on\s+hold\s+for"
        r"|(?:pending|stuck|outstanding|unresolved|down|broken|delayed|sitting|sat|open)\s+(?:here\s+)?for\s+"
        r"(?:over\s+|more\s+than\s+|almost\s+|nearly\s+)?(?:an?|\d+|one|two|three|four|five|several|many)\s+"
        r"(?:hours?|hrs?|days?|weeks?|months?)",
        -2.2,
    ),
    PhraseRule(
        "manager",
        "asks for a manager",
        r"(?:speak|talk|speaking|talking)\s+(?:to|with)\s+(?:a|an|your|the)\s+(?:manager|supervisor|superior"
        r"|someone\s+in\s+charge|(?:real|actual|live)\s+(?:person|human)|human)|escalate\s+(?:this|my|the)",
        -2.0,
    ),
    PhraseRule(
        "wasted_time",
        "wasted time or money",
        r"waste\s+of\s+(?:my\s+)?(?:time|money)|(?:wasted|wasting|lost)\s+(?:\w+\s+)?(?:hours|days|time|money)",
        -2.4,
    ),
    PhraseRule("refund", "asks for money back", r"money\s+back|(?:want|need|demand|expect)\s+a\s+refund", -1.6),
    # courtesy that is not praise, and praise that reads as a problem word
    PhraseRule(
        "courtesy", "", r"thanks\s+in\s+advance|thank\s+you\s+in\s+advance|tia|excuse\s+me|no\s+thanks?(?:\s+you)?", 0.0
    ),
    PhraseRule(
        "sarcasm",
        "sarcastic thanks",
        r"thanks\s+for\s+nothing|thanks\s+a\s+lot\s+for\s+nothing|great\s+job\s+(?:not|ruining)"
        r"|way\s+to\s+go\s+(?:\w+\s+)?(?:not|losing|ruining)",
        -2.6,
    ),
    PhraseRule(
        "relief",
        "no problem",
        r"no\s+(?:problems?|issues?|worries|complaints|trouble)|not\s+(?:a\s+)?(?:problem|an\s+issue|bad)",
        0.8,
    ),
    PhraseRule(
        "gratitude",
        "thanks",
        r"thanks?\s+(?:you\s+)?(?:so\s+much|a\s+lot|again|for\s+(?:your|the|all|taking|getting|sorting|fixing"
        r"|resolving|helping|looking|being|such))",
        2.2,
        polite=True,
    ),
    PhraseRule(
        "solved",
        "problem solved",
        r"(?:works|working)\s+(?:now|again|fine|perfectly|great)"
        r"|(?:problem|issue|it)\s+(?:is|was|has\s+been)\s+(?:now\s+)?(?:fixed|resolved|solved|sorted)"
        r"|(?:great|excellent|good|amazing|fantastic|awesome)\s+(?:service|support|job|work|help|experience)",
        2.4,
    ),
)

"""Does a generated sentence contradict the quotes it cites? Negation, antonyms, swapped numbers and dates.

Word overlap and embedding similarity cannot see these: "was not held" shares every word with "was held", and
"17 members and 5 observers" every number with "5 members and 17 observers". Each rule compares the claim with
the cited quotes' text and returns problems a reader can check against the quote ("the claim says 'not held'
where quote [1] says 'held'"). No rule fires when a cited quote says the claim's version too.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from functools import cache

from policyqa.answer.grounding import STOPWORDS
from policyqa.ingest.terms import stems

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_][\w'’-]*|[.,;:!?()\"“”]", re.UNICODE)
_NEGATIONS = {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot"}
# Words that negate what follows them ("the impossibility of solving", "unable to attend").
_NEGATING = {"impossible", "impossibility", "unable", "inability", "lack", "lacks", "lacked", "failed", "fails"}
_NOT_NEGATION_AFTER = {"only", "just", "merely", "least", "doubt"}  # "not only … but also", "no doubt"
# Passed over between a negation and the word it negates ("was not yet formally held").
_AUXILIARY = {
    "be", "been", "being", "is", "are", "was", "were", "am", "do", "does", "did", "have", "has", "had", "to", "a",
    "an", "the", "any", "yet", "ever", "even", "also", "of", "at", "all", "it", "they", "he", "she",
    "will", "would", "can", "could", "should", "shall", "may", "might", "must", "get", "got",
}  # fmt: skip
# Opposites in policy language (WordNet is not installable offline: no PyPI package ships its data).
_ANTONYM_GROUPS = [
    ("online", "offline"), ("online virtual remote", "in-person"), ("increase increased rise rose risen grow grew",
     "decrease decreased reduce reduced fall fell fallen decline shrink shrank cut"), ("raise raised", "lower lowered"),
    ("higher", "lower"), ("more", "less fewer"), ("maximum", "minimum"), ("expand expansion", "reduce reduction"),
    ("allow allowed permit permitted", "prohibit prohibited forbid forbidden ban banned"),
    ("approve approved accept accepted adopt adopted ratify ratified", "reject rejected veto vetoed"),
    ("support supported", "oppose opposed"), ("include included", "exclude excluded"),
    ("mandatory compulsory required obligatory", "optional voluntary"), ("public", "private"),
    ("open opened", "closed"), ("strengthen strengthened", "weaken weakened"),
    ("improve improved", "worsen worsened deteriorate deteriorated"), ("positive", "negative"),
    ("friendly", "hostile"), ("constructive", "destructive"), ("peaceful", "violent"), ("success", "failure"),
    ("succeed succeeded", "fail failed"), ("gain", "loss"), ("profit", "loss"), ("temporary", "permanent"),
    ("short-term", "long-term"), ("import imports", "export exports"), ("urban", "rural"), ("majority", "minority"),
    ("grant granted", "deny denied refuse refused"), ("confirm confirmed", "deny denied"),
    ("enable enabled", "disable disabled"), ("impose imposed", "lift lifted"), ("present", "absent"),
    ("withdraw withdrew withdrawal", "deploy deployed deployment"), ("resume resumed", "suspend suspended"),
    ("start started", "stop stopped"), ("continue continued", "discontinue discontinued"),
    ("inclusive", "exclusive"), ("domestic", "foreign"), ("internal", "external"),
    ("encourage encouraged", "discourage discouraged"), ("unanimous unanimously", "divided"),
    ("win won", "lose lost"), ("victory", "defeat"), ("guilty", "innocent"), ("legal lawful", "illegal unlawful"),
    ("agree agreed", "disagree disagreed"), ("agreement consensus", "disagreement"),
]  # fmt: skip
_PREFIXES = ("non-", "non", "un", "dis", "in", "im", "il", "ir")
_ADJECTIVE_ENDINGS = ("al", "able", "ible", "ful", "ive", "ent", "ant", "ar", "ary", "ity", "ure", "ory", "ous",
                      "ic", "id", "ment", "ance", "ence", "ate")  # fmt: skip
_MONTH_NAMES = [m.lower() for m in calendar.month_name[1:]]
_MONTH = r"(?P<m>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|" \
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"  # fmt: skip
_DATES = [
    re.compile(rf"\b(?P<y>\d{{4}})\s+{_MONTH}\s+(?P<d>\d{{1,2}})\b", re.I),
    re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<a>\d{1,2})[./](?P<b>\d{1,2})[./](?P<y>\d{4})\b"),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<y>\d{{4}}))?\b", re.I),
    re.compile(rf"\b{_MONTH}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}})\b)?", re.I),
    re.compile(rf"\b{_MONTH},?\s+(?P<y>\d{{4}})\b", re.I),
]
_SLOT_PREPOSITIONS = {"from", "to", "by", "between", "than"}
_QUOTE_MARKS = {'"', "“", "”"}
_CLAUSE_BREAKS = {"and", "or", "but", "while", "whereas", "although", "though", "because", "which", "who", "that"}
# End the words a number counts ("8% between 2015 and 2022" counts nothing after 8%); STOPWORDS lacks them.
_PREPOSITIONS = {"between", "during", "within", "after", "before", "since", "until", "across", "among", "per",
                 "via", "through", "towards", "toward", "against", "upon", "including", "each", "every"}  # fmt: skip
_UNITS = {"percent", "%", "per", "cent", "million", "billion", "thousand", "hundred", "dozen", "share"}


@dataclass(frozen=True)
class Word:
    text: str
    stem: str
    negated_by: str | None  # the negation before it ("not"), when it is the word a negation applies to


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _stem(word: str) -> str:
    return stems([word.lower().replace("’", "'")])[0]


def _words(text: str) -> list[Word]:
    """The words of `text`, each marked with the negation that applies to it (the first word after a negation
    that is not an auxiliary: "was not held" → held; "no alternative" → alternative)."""
    tokens = _tokens(text)
    out: list[Word] = []
    pending: str | None = None
    for i, token in enumerate(tokens):
        lower = token.lower().replace("’", "'")
        if not token[0].isalnum():
            if token not in _QUOTE_MARKS:  # 'do not “sell”' still negates sell
                pending = None
            continue
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if (lower in _NEGATIONS or lower.endswith("n't")) and nxt not in _NOT_NEGATION_AFTER:
            pending = "not" if lower.endswith("n't") or lower == "cannot" else lower
            continue
        if lower in _NEGATING:
            out.append(Word(token, _stem(token), pending))
            pending = lower
            continue
        if pending and (lower in _AUXILIARY or lower.endswith("ly")):
            continue
        out.append(Word(token, _stem(token), pending))
        pending = None
    return out


def _after(words: list[Word], k: int, reach: int = 5) -> set[str]:
    """What a word is said of: the content words just after it ("open on Sundays" → sunday)."""
    return {w.stem for w in words[k + 1 : k + 1 + reach] if w.text.lower() not in STOPWORDS}


def _stated_opposite(claim_words: list[Word], word: Word, quote_words: dict[int, list[Word]]) -> bool:
    """The quotes state the opposite of a word the claim negates, about the same things (its neighbours overlap
    the claim's more than those of the word itself do): "not open on Mondays" ~ "closed on Mondays"."""
    mine = _after(claim_words, claim_words.index(word))
    opposites = _antonyms().get(word.stem, set())
    best_opposite = best_same = -1
    for ws in quote_words.values():
        for k, w in enumerate(ws):
            if w.stem in opposites and not w.negated_by:
                best_opposite = max(best_opposite, len(mine & _after(ws, k)))
            elif w.stem == word.stem:
                best_same = max(best_same, len(mine & _after(ws, k)))
    return best_opposite > best_same


def _said(word: Word) -> str:
    return f"{word.negated_by} {word.text}" if word.negated_by else word.text


def negation_problems(claim: str, quotes: dict[int, str]) -> list[str]:
    """A word the claim negates that the quotes only state, or the reverse."""
    claim_words = _words(claim)
    quote_words = {n: _words(q) for n, q in quotes.items()}
    problems = []
    seen = set()
    for word in claim_words:
        if word.stem in seen or word.text.lower() in STOPWORDS or len(word.text) < 3:
            continue
        same = [w for ws in quote_words.values() for w in ws if w.stem == word.stem]
        if not same or any(bool(w.negated_by) == bool(word.negated_by) for w in same):
            continue  # the quotes do not mention it, or one of them says it the claim's way
        if word.negated_by and _stated_opposite(claim_words, word, quote_words):
            continue  # "does not open on Mondays" where the quote says "closed on Mondays"
        if not word.negated_by and any(w.stem == word.stem and w.negated_by for w in claim_words):
            continue
        seen.add(word.stem)
        n, other = next((n, w) for n, ws in quote_words.items() for w in ws if w.stem == word.stem)
        problems.append(f"the claim says '{_said(word)}' where quote [{n}] says '{_said(other)}'")
    return problems


@cache
def _antonyms() -> dict[str, set[str]]:
    opposite: dict[str, set[str]] = {}
    for left, right in _ANTONYM_GROUPS:
        a, b = {_stem(w) for w in left.split()}, {_stem(w) for w in right.split()}
        for s in a:
            opposite.setdefault(s, set()).update(b - a)
        for s in b:
            opposite.setdefault(s, set()).update(a - b)
    return opposite


def _affix_opposite(word: str, other: str) -> bool:
    """'illegal' for 'legal', 'unlimited' for 'limited', 'instability' for 'stability'."""
    for prefix in _PREFIXES:
        if word.startswith(prefix) and word[len(prefix) :] == other and len(other) >= 4 and other != "less":
            return prefix in ("un", "non", "non-") or other.endswith(_ADJECTIVE_ENDINGS)
    return False


def antonym_problems(claim: str, quotes: dict[int, str]) -> list[str]:
    """A claim word whose opposite stands in a cited quote, where the quotes never use the claim's word and the
    claim never uses the opposite. A negated opposite agrees ("not allowed" ~ "prohibited")."""
    claim_words = [w for w in _words(claim) if w.text[0].isalpha()]
    quote_words = [(n, w) for n, q in quotes.items() for w in _words(q) if w.text[0].isalpha()]
    claim_stems = {w.stem for w in claim_words} | {w.text.lower() for w in claim_words}
    quote_stems = {w.stem for _, w in quote_words} | {w.text.lower() for _, w in quote_words}
    problems = []
    for word in claim_words:
        lower = word.text.lower()
        if word.stem in quote_stems or lower in quote_stems:
            continue
        for n, other in quote_words:
            o_lower = other.text.lower()
            if other.stem in claim_stems or o_lower in claim_stems or bool(word.negated_by) != bool(other.negated_by):
                continue
            if (
                other.stem in _antonyms().get(word.stem, ())
                or _affix_opposite(lower, o_lower)
                or _affix_opposite(o_lower, lower)
            ):
                problems.append(f"the claim says '{_said(word)}' where quote [{n}] says '{_said(other)}'")
                break
    return problems


@dataclass(frozen=True)
class Date:
    text: str
    day: int | None
    month: frozenset[int]  # one month, or the two readings of an ambiguous 03/04/2020
    year: int | None
    numbers: frozenset[str]

    def agrees_with(self, other: Date) -> bool:
        shared = 0
        for mine, theirs in ((self.day, other.day), (self.year, other.year)):
            if mine is not None and theirs is not None:
                if mine != theirs:
                    return False
                shared += 1
        if self.month and other.month:
            if not self.month & other.month:
                return False
            shared += 1
        return shared > 0


def _month(name: str) -> int:
    return next(i for i, m in enumerate(_MONTH_NAMES, 1) if m.startswith(name.lower().rstrip(".")[:3]))


def dates(text: str) -> list[Date]:
    """Dates written with at least one number: '26 August 2020', '2020 August 26', 'March 2018', '26.08.2020'."""
    found: list[tuple[int, int, Date]] = []
    for pattern in _DATES:
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e, _ in found):
                continue
            g = {k: v for k, v in match.groupdict().items() if v}
            if g.get("m", "").lower() == "may" and not g["m"].startswith("M"):
                continue  # the verb
            day = int(g["d"]) if "d" in g else None
            if "a" in g:  # 03/04/2020: day/month or month/day
                a, b = int(g["a"]), int(g["b"])
                readings = {(a, b), (b, a)}
                months = frozenset(m for d, m in readings if m <= 12 and d <= 31)
                day = a if a == b else (a if b <= 12 and a > 12 else (b if a <= 12 and b > 12 else None))
            else:
                months = frozenset({_month(g["m"]) if "m" in g else int(g["mo"])})
            if day is not None and not 1 <= day <= 31:
                continue
            year = int(g["y"]) if "y" in g else None
            nums = frozenset(re.findall(r"\d+", match.group(0)))
            found.append((match.start(), match.end(), Date(match.group(0), day, months, year, nums)))
    return [d for _, _, d in sorted(found, key=lambda x: x[0])]


def _without_dates(text: str) -> str:
    for date in dates(text):
        text = text.replace(date.text, " ; ")
    return text


def date_problems(claim: str, quotes: dict[int, str], quote_numbers: set[str]) -> list[str]:
    """A date of the claim that no cited date agrees with, though its numbers are in the quotes (parts in another
    role: '11 May' where the quote has '9 May' and 11 elsewhere). Missing numbers are reported by the number rule."""
    quoted = [(n, d) for n, q in quotes.items() for d in dates(q)]
    problems = []
    for date in dates(claim):
        if not quoted or any(date.agrees_with(d) for _, d in quoted) or not date.numbers <= quote_numbers:
            continue
        n, nearest = max(quoted, key=lambda item: len(item[1].numbers & date.numbers))
        problems.append(f"the claim's date '{date.text}' is not a date in quote [{n}] ('{nearest.text}')")
    return problems


def _number_slots(text: str) -> list[tuple[str, set[str], set[str], str]]:
    """(number, the words it counts or its role, the words before it in its clause, as written): 'board has 5
    members' → ('5', {member}, {board}, 'board has 5 members'); 'from 5%' → ('5', {'<from>', percent}, set(),
    'from 5%'). Dates are left out (their own rule)."""
    tokens = _tokens(_without_dates(text))
    out = []
    for i, token in enumerate(tokens):
        if not token[0].isdigit():
            continue
        number = token.rstrip("%").replace(",", "")
        slots, end = set(), i + 1
        if token.endswith("%"):
            slots.add("percent")
        before = tokens[i - 1].lower() if i else ""
        if before in _SLOT_PREPOSITIONS:
            slots.add(f"<{before}>")
        for j in range(i + 1, min(i + 5, len(tokens))):
            lower, last = tokens[j].lower(), tokens[j - 1].lower()
            if lower == "of" and (last in _UNITS or last.endswith("%")):
                continue
            if not lower[0].isalpha() or lower in STOPWORDS or lower in _PREPOSITIONS:
                break
            slots.add(_stem(lower))
            end = j + 1
        start, lead = _leading_words(tokens, i)
        if any(t.lower() not in _UNITS for t in tokens[i + 1 : end]):
            start = i  # shown as what it counts: "17 members", not "board has 17 members"
        if before in _SLOT_PREPOSITIONS:
            start = min(start, i - 1)
        if slots or lead:
            out.append((number, slots, {_stem(w) for w in lead}, " ".join(tokens[start:end])))
    return out


def _leading_words(tokens: list[str], i: int, most: int = 3) -> tuple[int, list[str]]:
    """The content words before tokens[i] in its clause, nearest first, at most `most` ("Exports rose by 9%" →
    rose, Exports): what a number is about when the noun comes first. Also where they start."""
    words: list[str] = []
    start = i
    for j in range(i - 1, -1, -1):
        token = tokens[j]
        if (not token[0].isalpha() and token not in _QUOTE_MARKS) or token.lower() in _CLAUSE_BREAKS:
            break
        if len(words) == most:
            break
        if token[0].isalpha() and token.lower() not in STOPWORDS and token.lower() not in _PREPOSITIONS:
            words.append(token)
            start = j
    return start, words


def number_problems(claim: str, quotes: dict[int, str]) -> list[str]:
    """A number the quotes give, attached in the claim to what the quotes attach another number to: '17 members'
    where the quote says '5 members' and '17 observers'; 'from 15%' where it says 'from 21% to 15%'; 'Exports
    rose by 9%' where it says 'Exports rose by 4%' and 'imports rose by 9%'. The words after a number (what it
    counts) weigh first, then all its words; units (percent, million …) are left out of the words but must match:
    '£12 million' is never swapped with the year 2021."""
    units = {_stem(u) for u in _UNITS} | _UNITS
    quoted = [
        (n, num, f - units, f | lead, f & units, shown)
        for n, q in quotes.items()
        for num, f, lead, shown in _number_slots(q)
    ]
    given = {m.replace(",", "") for q in quotes.values() for m in re.findall(r"\d+(?:[.,]\d+)*", q)}
    problems = []
    for number, after, lead, shown in _number_slots(claim):
        kind, after, every = after & units, after - units, (after | lead) - units
        if not every or number not in given:
            continue  # nothing to compare, or not in the quotes (the number rule says so)
        fits = [((len(after & qa), len(every & qe)), n, num, qs) for n, num, qa, qe, qk, qs in quoted if qk == kind]
        own = max((fit for fit, _, num, _ in fits if num == number), default=(0, 0))
        rival = max(((fit, n, qs) for fit, n, num, qs in fits if num != number), default=None)
        if rival and rival[0] > own:
            problems.append(f"the claim says '{shown}' where quote [{rival[1]}] says '{rival[2]}'")
    return problems

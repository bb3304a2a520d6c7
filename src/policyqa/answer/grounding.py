"""What a question asks for, and whether a quote covers it: key terms, names and the expected answer type.

A question is split into parts ("When was it held and how much did it cost?" is two). Each part has its content
terms, weighted by the index's BM25 IDF (a term no chunk contains weighs most), its names (capitalised words and
numbers, which a quote must contain), and the kind of answer it expects (who → a name, when → a date, how many →
a number, where → a place). All checks are on the text, so every refusal reason can be checked by the reader.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

from policyqa.ingest.terms import stems

AnswerType = Literal["number", "date", "day", "person", "place"]

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_STOPWORD_TEXT = (
    "a an the of in on at to for from by with about as into over under and or but nor is are was were be been "
    "being do does did has have had what which who whom whose when where why how that this these those it its "
    "their there they them he she his her we our you your i me my according said say says any some than then so "
    "such not no yes can could should would will shall may might must also other besides what's if many much "
    "kind sort type"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# "how long / how far / how often ..." asks for a number or a duration: the word after "how" is the question's kind,
# not a word the answer must contain ("CCTV footage is kept for 31 days" answers "How long is CCTV footage kept?")
HOW_MEASURES = frozenset(["long", "far", "old", "often", "large", "big", "high", "soon"])
_EXPECTS: list[tuple[AnswerType, re.Pattern[str]]] = [
    ("day", re.compile(r"\b(which|what|exact) (day|date)\b|\bon what day\b", re.I)),
    (
        "date",
        re.compile(r"^\s*when\b|\b(what|which|exact) (date|year|day|month)\b|\bby what date\b|\bin what year\b", re.I),
    ),
    ("number", re.compile(r"\bhow (many|much)\b|\b(number|population|percentage|amount|budget|value) of\b", re.I)),
    ("person", re.compile(r"^\s*(who|whom)\b", re.I)),
    ("place", re.compile(r"^\s*where\b|\b(which|what) (city|country|town|place|border crossing)\b", re.I)),
]
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?"
    r"|thousands?|millions?|billions?|dozens?|half|percent)\b",
    re.I,
)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DATE = re.compile(rf"\b(1[6-9]|20)\d\d\b|\b({_MONTHS})\b|\b(this|last|next) (year|month|week)\b", re.I)
_DAY = re.compile(
    rf"\b\d{{1,2}}(st|nd|rd|th)? ({_MONTHS})\b|\b({_MONTHS}) \d{{1,2}}\b|\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d", re.I
)
_YEAR = re.compile(r"\b(1[6-9]|20)\d\d\b")
_NAME = re.compile(r"(?<=[^.!?\s]\s)[A-Z][\w’'-]+")  # a capitalised word that does not start a sentence
_CONTINUES = re.compile(r"^(?:[\w’]+,?\s+){0,3}?(he|she|they|it|his|her|their|its|this|these|such)\b", re.I)
_SPLIT = re.compile(r"(?<=\?)\s+|,?\s+and\s+(?=(?:what|when|where|who|whom|which|how|why)\b)", re.I)


@dataclass(frozen=True)
class Term:
    word: str  # as the question writes it
    weight: float  # BM25 IDF in the index
    in_index: bool  # some chunk of the index contains it
    is_name: bool  # capitalised inside the question, or a number: a quote must contain it


@dataclass(frozen=True)
class QuestionPart:
    text: str
    terms: tuple[Term, ...]
    expects: AnswerType | None


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def question_parts(question: str, idf: Callable[[list[str]], list[tuple[float, bool]]]) -> list[QuestionPart]:
    """The question's parts; a piece with no content word of its own ("If yes, how?") joins the one before."""
    parts: list[QuestionPart] = []
    for piece in (p.strip() for p in _SPLIT.split(question) if p and p.strip()):
        tokens = words(piece)
        asked = [w for i, w in enumerate(tokens) if not _measure_word(tokens, i)]
        found = [w for w in asked if (w.lower() not in STOPWORDS and len(w) > 1) or w.isdigit()]
        names = {w for i, w in enumerate(tokens) if i > 0 and w[0].isupper() and w.lower() not in STOPWORDS}
        unique = list(dict.fromkeys(found))
        weights = idf(unique) if unique else []
        terms = tuple(
            Term(w, weight, known, w in names or any(c.isdigit() for c in w))
            for w, (weight, known) in zip(unique, weights, strict=True)
        )
        expects = next((kind for kind, pattern in _EXPECTS if pattern.search(piece)), None)
        if parts and not terms:
            last = parts.pop()
            parts.append(QuestionPart(f"{last.text} {piece}", last.terms, last.expects or expects))
        else:
            parts.append(QuestionPart(piece, terms, expects))
    return parts


def _measure_word(tokens: list[str], i: int) -> bool:
    return i > 0 and tokens[i - 1].lower() == "how" and tokens[i].lower() in HOW_MEASURES


def _key(word: str) -> str:
    return word.lower()[:6]


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return stems([word])[0]


def is_acronym(word: str) -> bool:
    return 2 <= len(word) <= 5 and word.isupper() and word.isalpha()


class WordSet:
    """A text's words, matched loosely: same first six letters, or one a prefix (≥ 4 letters, ≤ 5 letters shorter)
    of the other ("policies"/"policy", "Uzbek"/"Uzbekistan"); an acronym also matches the initials of capitalised
    words ("US"/"United States")."""

    def __init__(self, text: str):
        self.found = words(text)
        self.words = {w.lower() for w in self.found}
        self.keys = {_key(w) for w in self.words} | {_stem(w) for w in self.words}

    @cached_property
    def ordered(self) -> list[str]:
        return sorted(self.words)

    @cached_property
    def initials(self) -> set[str]:
        """Initials of each run of capitalised words ("United States" → "US"; "of", "and", "for" may join)."""
        out: set[str] = set()
        run: list[str] = []
        for w in [*self.found, "."]:
            if w[0].isupper():
                run.append(w[0])
            elif not (run and w in ("of", "and", "for", "the", "on")):
                joined = "".join(run)
                out |= {joined[i:j] for i in range(len(joined)) for j in range(i + 2, min(len(joined), i + 5) + 1)}
                run = []
        return out

    def has(self, word: str) -> bool:
        w = word.lower()
        if _key(w) in self.keys or _stem(w) in self.keys or (is_acronym(word) and word in self.initials):
            return True
        if len(w) < 4:
            return False
        if any(w[:k] in self.words for k in range(max(4, len(w) - 5), len(w))):
            return True
        at = bisect_left(self.ordered, w)  # the words that start with w come right after it in order
        return at < len(self.ordered) and self.ordered[at].startswith(w) and len(self.ordered[at]) - len(w) <= 5


def coverage(part: QuestionPart, found: WordSet) -> float:
    """IDF-weighted share of the part's terms the text contains."""
    total = sum(t.weight for t in part.terms)
    if total <= 0:
        return 1.0 if not part.terms else sum(found.has(t.word) for t in part.terms) / len(part.terms)
    return sum(t.weight for t in part.terms if found.has(t.word)) / total


def missing(terms: Iterable[Term], found: WordSet) -> list[Term]:
    return [t for t in terms if not found.has(t.word)]


def has_type(kind: AnswerType | None, text: str, question: str = "") -> bool:
    """Whether `text` holds the kind of answer (words the question itself uses do not count: "How many attended
    in 2019?" is not answered by "In 2019, …")."""
    if kind is None:
        return True
    asked = {w.lower() for w in words(question)}
    flat = "".join(w if w.lower() not in asked else "_" for w in re.split(r"(\W+)", " ".join(text.split())))
    if kind == "number":  # a count or amount: years and the days of dates are not one
        return bool(_NUMBER.search(_YEAR.sub(" ", _DAY.sub(" ", flat))))
    if kind == "date":
        return bool(_DATE.search(flat))
    if kind == "day":
        return bool(_DAY.search(flat))
    return bool(_NAME.search(flat))  # person or place: a capitalised word inside a sentence


def continues_previous(sentence: str) -> bool:
    """ "In his opinion, the Uzbek side…": the sentence leans on the one before it for its subject."""
    return bool(_CONTINUES.match(sentence))


TYPE_WORDS: dict[AnswerType, str] = {
    "number": "number",
    "date": "date",
    "day": "exact date",
    "person": "name",
    "place": "place",
}

"""Follow-up questions in a conversation: a short question that leans on the previous one ("and who chaired it?")
is expanded with the previous question's subject before retrieval. Measured in benchmarks/followups.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

MAX_FOLLOWUP_WORDS = 10  # longer questions usually name their own subject
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
PRONOUNS = frozenset(
    "it its itself they them their theirs he him his she her hers this that these those there then such "  # noqa: SIM905
    "the same former latter one".split()
)
LEADS = ("and", "also", "but", "so", "then", "what about", "how about", "and what about")
STOP = frozenset(
    """a an the of in on at to for by with from about into over under as than and or but nor so if not no
    what when where who whom whose which why how was were is are be been being did do does done has have had
    can could should would will shall may might must it its they them their he him his she her this that these
    those there then also any some all other such same one ones say said says according report mention mentioned
    tell me please kind sort else more again""".split()  # noqa: SIM905
)


class _Evidence(Protocol):
    @property
    def abstained(self) -> bool: ...

    @property
    def confidence(self) -> float: ...


A = TypeVar("A", bound=_Evidence)


@dataclass(frozen=True)
class Expansion:
    question: str  # as asked
    query: str  # what is searched for; == question when it stands alone
    subject: str = ""  # the words carried over from the previous question

    @property
    def expanded(self) -> bool:
        return self.query != self.question


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    """Words that carry the subject, in order, once each, as written."""
    seen: dict[str, str] = {}
    for word in _WORD.findall(text):
        key = word.lower()
        if key not in STOP and len(key) > 1 and key not in seen:
            seen[key] = word
    return list(seen.values())


def leans_on_previous(question: str) -> bool:
    """Short, and refers back: a pronoun, a leading "and …"/"what about …", or almost no words of its own."""
    tokens = words(question)
    if not tokens or len(tokens) > MAX_FOLLOWUP_WORDS:
        return False
    lowered = " ".join(tokens)
    if any(lowered == lead or lowered.startswith(lead + " ") for lead in LEADS):
        return True
    return bool(PRONOUNS.intersection(tokens) - {"the", "one"}) or len(content_words(question)) <= 1


def expand_followup(question: str, previous: str | None) -> Expansion:
    """`question` with the previous question's subject (its content words) added, when it leans on it."""
    question = " ".join(question.split())
    if not previous or not leans_on_previous(question):
        return Expansion(question, question)
    own = {w.lower() for w in content_words(question)}
    carried = [w for w in content_words(previous) if w.lower() not in own]
    if not carried:
        return Expansion(question, question)
    subject = " ".join(carried)
    return Expansion(question, f"{question} ({subject})", subject)


def best_answer(ask: Callable[[str], A], expansion: Expansion) -> tuple[A, str]:
    """(answer, the query it came from). A follow-up is answered from its expanded query and as asked, and the
    answer with the stronger evidence wins: the carried subject finds the right passages, but can also pull the
    quote towards a sentence about the subject instead of the follow-up's own focus (benchmarks/followups.py)."""
    answer = ask(expansion.query)
    if not expansion.expanded:
        return answer, expansion.query
    plain = ask(expansion.question)
    if (not plain.abstained, plain.confidence) > (not answer.abstained, answer.confidence):
        return plain, expansion.question
    return answer, expansion.query

"""Near misses by construction, for training the answerability scorer (train_scorer.py): questions that look like an
answerable one but that its document does not answer, made by swapping one word."""

from __future__ import annotations

import random
import re


def swapped(question: str, doc_text: str, pool: list[str], rng: random.Random) -> list[str]:
    """Near misses naming what the document never mentions: the question's rarest capitalised word, or a number or
    year it names, swapped for a name of another document (or a number) this document never uses."""
    from policyqa.answer.grounding import STOPWORDS, words

    out = []
    number = re.search(r"\b\d{1,4}\b", question)
    if number:
        value = int(number.group())
        options = [str(v) for v in range(max(1, value - 9), value + 10) if v != value and str(v) not in doc_text]
        if options:
            out.append(question[: number.start()] + rng.choice(options) + question[number.end():])
    names = [w for w in words(question) if w.lower() not in STOPWORDS and len(w) > 3 and w[0].isupper()
             and question.index(w) > 0]
    options = [p for p in pool if p[0].isupper()]
    if names and options:
        out.append(re.sub(rf"\b{re.escape(names[0])}\b", rng.choice(options), question, count=1))
    return out


CONTEXT = 400  # characters either side of the answer: a swapped word found there may pair with it


def unpaired(question: str, answer: str, doc_text: str, rng: random.Random) -> list[str]:
    """Near misses whose every word the document knows: the question's name, number or verb swapped for one of the
    same kind from the same document that it never uses near the answer ("When was the conference held in Samarkand?"
    where the document holds Samarkand only for another event)."""
    from policyqa.answer.grounding import STOPWORDS, WordSet, words

    flat = " ".join(doc_text.split())
    at = flat.lower().find(" ".join(answer.split()).lower())
    if at < 0:
        return []
    near = flat[max(0, at - CONTEXT) : at + len(answer) + CONTEXT].lower()
    asked = WordSet(question)  # a replacement the matching reads as a question word ("Afghans") swaps nothing

    def pick(found: list[str]) -> str | None:
        options = sorted({w for w in found if not asked.has(w) and not re.search(rf"\b{re.escape(w.lower())}\b", near)})
        return rng.choice(options) if options else None

    out = []
    names = [w for w in words(question)[1:] if w[0].isupper() and w.lower() not in STOPWORDS and len(w) > 3]
    numbers = re.findall(r"\b\d{1,4}\b", question)
    verbs = re.findall(r"\b(?:was|were|is|are|been|be|who|which|that)\s([a-z]{3,}ed)\b|\b([a-z]{3,}ed)\?$", question)
    verbs = [v for pair in verbs for v in pair if v]  # the main verb: "was signed", "who chaired", "... held?"
    kinds = (
        (names, r"(?<=[a-z,] )[A-Z][a-z]{3,}\b"),
        (numbers, r"\b(?:1[6-9]|20)\d\d\b" if numbers and len(numbers[0]) == 4 else r"\b\d{1,3}\b"),
        (verbs, r"\b[a-z]{3,}ed\b"),
    )
    for targets, kind in kinds:
        if targets:
            target = rng.choice(targets)
            replacement = pick(re.findall(kind, flat))
            if replacement:
                out.append(re.sub(rf"\b{re.escape(target)}\b", replacement, question, count=1))
    return out

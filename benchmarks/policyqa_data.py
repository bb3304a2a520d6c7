"""PolicyQA dev (SQuAD format) as a corpus of 20 policy files plus questions with gold character spans.

The data stays outside the repository (OPP-115 texts are non-commercial); scripts take its path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Question:
    text: str
    doc_id: str
    spans: tuple[tuple[int, int], ...]  # gold answer spans, character offsets into the policy file's text


def policy_file_name(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", title) + ".txt"


def write_policies(dev_json: Path, corpus_dir: Path) -> list[Question]:
    """Write each policy as one text file (paragraphs joined by a blank line); return its questions."""
    data = json.loads(Path(dev_json).read_text(encoding="utf-8"))["data"]
    corpus_dir.mkdir(parents=True, exist_ok=True)
    questions: list[Question] = []
    for policy in data:
        doc_id = policy_file_name(policy["title"])
        parts, offset = [], 0
        by_text: dict[str, list[tuple[int, int]]] = {}
        for paragraph in policy["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                for answer in qa["answers"]:
                    start = offset + answer["answer_start"]
                    by_text.setdefault(qa["question"], []).append((start, start + len(answer["text"])))
            parts.append(context)
            offset += len(context) + 2
        (corpus_dir / doc_id).write_text("\n\n".join(parts), encoding="utf-8")
        questions += [Question(q, doc_id, tuple(sorted(set(spans)))) for q, spans in by_text.items()]
    return questions


def covers(chunk_start: int, chunk_end: int, span: tuple[int, int]) -> bool:
    """A chunk covers a gold span when it holds at least half of its characters."""
    overlap = min(chunk_end, span[1]) - max(chunk_start, span[0])
    return overlap * 2 >= span[1] - span[0]

"""Three small policies as real files: two state how long CCTV footage is kept, differently; one is silent on it."""

from __future__ import annotations

from pathlib import Path

QUESTION = "How long is CCTV footage kept?"
OTHER = "Who handles complaints about the cameras?"
FACTS = {"northfield_cctv_policy.txt": "31 days", "riverside_surveillance_policy.txt": "90 days"}
SILENT = "hillside_data_policy.txt"

POLICIES = {
    "northfield_cctv_policy.txt": """Northfield District Council: CCTV Policy

1. Purpose

The council operates closed-circuit television (CCTV) cameras in its car parks, libraries and the town hall to \
prevent crime and to protect staff and visitors.

2. Retention of footage

CCTV footage is kept for 31 days and is then deleted automatically, unless the police ask for a copy as evidence.

3. Access

Anyone recorded by the cameras may ask for a copy of the footage by writing to the Data Protection Officer.
""",
    "riverside_surveillance_policy.txt": """Riverside Borough: Surveillance Camera Policy

Scope

This policy covers every camera system run by Riverside Borough, including the cameras on council vehicles.

How long recordings are kept

Recordings from the borough's CCTV cameras are retained for a maximum of 90 days, after which they are overwritten.

Complaints

Complaints about the use of cameras are handled by the Information Governance team within 20 working days.
""",
    SILENT: """Hillside Academy: Data Protection Policy

Our commitment

Hillside Academy processes personal data about pupils, parents and staff in line with the UK General Data \
Protection Regulation.

Pupil records

Pupil records are kept until the pupil reaches the age of 25 and are then securely destroyed.

Staff training

All staff complete data protection training every year, and new staff complete it within their first month.
""",
}


def write_policies(corpus: Path) -> Path:
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in POLICIES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus

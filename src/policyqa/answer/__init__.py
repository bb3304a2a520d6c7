"""`Hit`s → `Answer`: sentence scoring, grounding (refusal reasons), composition, optional checked LLM generation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """A message for people, in English and Dutch."""

    en: str
    nl: str

    def __str__(self) -> str:
        return self.en

    def in_language(self, language: str) -> str:
        return self.nl if language.lower().startswith("nl") else self.en

    @staticmethod
    def join(parts: list[Text], separator: str = "; ") -> Text:
        return Text(separator.join(part.en for part in parts), separator.join(part.nl for part in parts))

"""Question answering over Chinese government documents, with checked citations.

from rag import ask
answer = ask("2024年郑州市地区生产总值预期增长多少?")
answer.text, answer.citations, answer.refused
"""

from .answering import REFUSAL, Answer
from .chunks import Chunk
from .citations import Citation
from .documents import Document, Paragraph
from .pipeline import Pipeline, ask, ask_stream, retrieve
from .question import validate_question
from .retrieval import Hit
from .settings import Settings

__all__ = [
    "REFUSAL",
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "Hit",
    "Paragraph",
    "Pipeline",
    "Settings",
    "ask",
    "ask_stream",
    "retrieve",
    "validate_question",
]

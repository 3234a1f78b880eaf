"""A question asked in English, put into Chinese by the language model.

The documents are Chinese and half of evidence scoring reads Chinese words, so
an English question is answered as its Chinese translation: the bundled
gemma-3-270m, shown three examples, translates short questions well enough
(asked in Chinese so, 8 of the 12 English questions of h5-h11 were answered
with their figure, against none told to ask in Chinese; on h13 and h14, not
chosen on, 2 of 4 were). The translation is greedy and read anew each time,
so the same question is put the same way.

Deliberately not done here: answering (the translation is asked as any Chinese
question is), or translating the answer back: its sentences are the
documents' own, and a citation must quote them as written.
"""

from __future__ import annotations

from .llms import LLM, LLMError
from .question import is_chinese

# Examples written for the prompt, not taken from any question set.
_PROMPT = """English: What is Zhengzhou's target for the growth of retail sales of consumer goods?
中文: 郑州社会消费品零售总额增长目标是多少?
English: How many new jobs were created in cities last year?
中文: 去年城镇新增就业多少人?
English: Which industries does the high-tech zone focus on?
中文: 高新区重点发展哪些产业?
English: {question}
中文:"""
_MAX_TOKENS = 48  # a question's worth; a runaway translation is cut, not waited for


def to_chinese(question: str, llm: LLM, limit: int) -> str | None:
    """The question in Chinese, or None when the model gave no Chinese
    question (or failed): the caller then asks for the question in Chinese."""
    try:
        text = "".join(llm.stream(_PROMPT.format(question=question), max_tokens=_MAX_TOKENS))
    except LLMError:
        return None
    line = text.strip().split("\n", 1)[0].strip()
    return line if is_chinese(line) and len(line) <= limit else None

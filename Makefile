# Two commands on a fresh machine: `make run` (chat page) and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test index eval lint

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m rag index --if-needed
	$(PY) app.py

test: $(STAMP)
	$(PY) -m ruff check rag eval tests app.py admin.py chat_view.py
	$(PY) -m ruff format --check rag eval tests app.py admin.py chat_view.py
	$(PY) -m pytest -q
	# Same question, same answer: the real-model comparison runs a second time in a fresh process.
	$(PY) -m pytest -q tests/test_determinism.py

index: $(STAMP)
	$(PY) -m rag index

eval: $(STAMP)
	$(PY) -m eval

lint: $(STAMP)
	$(PY) -m ruff format rag eval tests app.py admin.py chat_view.py
	$(PY) -m ruff check --fix rag eval tests app.py admin.py chat_view.py

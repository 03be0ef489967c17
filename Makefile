# The two entry points of the README: `make demo` and `make test`.
.PHONY: setup demo test lint format typecheck bench i18n

VENV := .venv/bin

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh

test: setup
	@echo "[test] ruff lint + format check"
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@echo "[test] mypy (strict, every package)"
	@$(VENV)/mypy
	@echo "[test] pytest"
	@$(VENV)/python -m pytest -q -n auto --maxprocesses 4 --dist loadscope --no-loadscope-reorder --durations 15

lint:
	@$(VENV)/ruff check . && $(VENV)/ruff format --check .

format:
	@$(VENV)/ruff format . && $(VENV)/ruff check --fix .

typecheck:
	@$(VENV)/mypy

bench: setup
	@$(VENV)/python -m benchmarks.report_api

# compile the screen-text catalogs after editing a kiosk.po
i18n:
	@for po in kiosk/locale/*/LC_MESSAGES/kiosk.po; do msgfmt --check -o "$${po%.po}.mo" "$$po" && echo "[i18n] $$po"; done

# make setup    create .venv with the pinned stack and install this project into it (about 80 s, 6 GB)
# make figures  execute every notebook in place and regenerate figures/
# make test     unit tests plus nbval (strict) on every notebook
# make lab      open the notebooks in JupyterLab
# make lint     ruff
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup figures test lab lint

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) scripts/check_venv.py $(VENV)
	@echo "[setup 1/3] pip itself"
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "[setup 2/3] the pinned stack from requirements.txt (about 80 s and 6 GB the first time)"
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt
	@echo "[setup 3/3] this project, editable (pip install -e .): import helpers works from any folder"
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

figures: setup
	$(BIN)/python -m helpers.execute notebooks/*.ipynb

test: setup
	$(BIN)/python -m pytest --nbval --nbval-current-env tests notebooks

lab: setup
	$(BIN)/jupyter lab notebooks

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

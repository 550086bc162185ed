# make setup    create .venv with the pinned stack (re-runs in seconds when nothing changed)
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

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# Make `import helpers` work from any folder (notebooks run in notebooks/), without a build step.
	$(BIN)/python -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 't2t_explained.pth').write_text('$(CURDIR)\n')"
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

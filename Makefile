# The two commands of the quick start; each does its own set-up:
# make figures       execute every notebook in place and regenerate figures/
# make test          unit tests, nbval (strict) on every notebook, and the browser tests
# Optional steps:
# make setup         create .venv with the pinned stack and install this project into it (about 80 s, 6 GB)
# make browser-deps  the browser for the browser tests, if it is missing (make test runs it first)
# make book          build the course website into _build/html (offline, nothing re-executed)
# make book-student  the same website without the worked solutions, into _build/student/_build/html
# make slides        a reveal.js slide deck of each notebook, offline, into _build/slides
# make lab           open JupyterLab at the repository root, on the notebooks folder
# make lint          ruff
# make assignments   the student release, made by nbgrader from notebooks/ and solutions/, into classroom/
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser the browser tests drive: T2T_CHROMIUM when set (as in tests/browser_launch.py),
# else Debian's chromium. make test hands it to pytest, so both always name the same file.
CHROMIUM := $(or $(T2T_CHROMIUM),/usr/bin/chromium)
# JupyterLab serves the repository root, so links such as ../figures/x.png and ../docs/y.md from
# a notebook resolve; it opens on the notebooks folder. tests/test_browser_lab.py starts Lab with
# these same flags.
LAB_FLAGS := --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks
# Jupyter refuses to run as root (containers, CI) unless told to.
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup figures book book-student slides browser-deps test lab lint assignments

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
	$(BIN)/python -m helpers.execute notebooks/*.ipynb $(wildcard solutions/*.ipynb)

book: setup
	$(BIN)/python scripts/build_book.py

# The student edition: its table of contents and configuration are made from book/ by the script.
book-student: setup
	$(BIN)/python scripts/build_book.py --student _build/student

# Slide types come from the cells' metadata (scripts/tag_slides.py); reveal.js and MathJax are copied
# from installed packages into _build/slides/vendor, so the decks need no network.
slides: setup
	$(BIN)/python scripts/build_slides.py _build/slides

# An nbgrader course directory: source/ (the teacher's version, made from the lesson and its worked
# solution), release/ (what students get), gradebook.db. docs/teaching.md, "Running a course".
assignments: setup
	$(BIN)/python scripts/build_assignments.py classroom

# Installs Debian's chromium only as root with apt-get; anywhere else it prints what to do and
# goes on, and the browser tests then fail with their own message.
browser-deps:
	@if [ -x "$(CHROMIUM)" ]; then echo "[browser-deps] $(CHROMIUM) is installed"; \
	elif [ -n "$(T2T_CHROMIUM)" ]; then echo "[browser-deps] T2T_CHROMIUM=$(T2T_CHROMIUM) is not a program: point it at Chromium or Chrome, or unset it for Debian's /usr/bin/chromium"; \
	elif ! command -v apt-get >/dev/null; then echo "[browser-deps] $(CHROMIUM) is missing and there is no apt-get: install Chromium or Chrome and set T2T_CHROMIUM=/path/to/chrome"; \
	elif [ "$$(id -u)" != 0 ]; then echo "[browser-deps] $(CHROMIUM) is missing: run \`sudo make browser-deps\`, or install Chromium or Chrome and set T2T_CHROMIUM=/path/to/chrome"; \
	else echo "[browser-deps] installing Debian's chromium with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

test: setup browser-deps
	T2T_CHROMIUM="$(CHROMIUM)" $(BIN)/python -m pytest --nbval --nbval-current-env tests notebooks $(wildcard solutions)

lab: setup
	$(BIN)/jupyter lab $(LAB_FLAGS) $(LAB_AS_ROOT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

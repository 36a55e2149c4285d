# Two commands: `make run` (set up everything, start the server) and `make test`
# (set up, lint, run the whole suite). Both work on a fresh machine with Python 3.11,
# pip, npm and apt.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# llama-cpp-python ships only a source package: build it once without CPU-specific
# instructions so pip's cached wheel works on any x86-64 machine.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

# Django answers 400 (DisallowedHost) to a Host header not in ALLOWED_HOSTS: `make run`
# adds the host it binds to, and for HOST=0.0.0.0 (or ::) this machine's name and every
# address it has, so the page opens by its LAN address too. An ALLOWED_HOSTS set in the
# environment is kept and added to.
comma := ,
empty :=
space := $(empty) $(empty)
ALL_INTERFACES := $(filter 0.0.0.0 :: [::],$(HOST))
RUN_HOSTS := $(strip $(if $(ALL_INTERFACES),$(shell hostname 2>/dev/null) $(foreach a,$(shell hostname -I 2>/dev/null),$(if $(findstring :,$(a)),[$(a)],$(a))),$(HOST)))
RUN_ALLOWED_HOSTS = $${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}$(if $(RUN_HOSTS),$(comma)$(subst $(space),$(comma),$(RUN_HOSTS)))

.PHONY: run test setup venv npm prepare lint format bench clean

run: setup
	@echo ""
	@echo "  Serving on http://$(HOST):$(PORT)/  (model: $${LLM_MODEL:-llama_cpp:bundled}; Ctrl-C stops)"
	@echo "  Allowed hosts: $(RUN_ALLOWED_HOSTS)  (add others with ALLOWED_HOSTS=name1,name2 make run ...)"
	@echo "  Watch and run Smallville at http://$(HOST):$(PORT)/simulator_home (sign in to play/pause/step;"
	@echo "  create an account once with: .venv/bin/python manage.py createsuperuser)."
	@echo "  Or run it from another terminal, e.g. one game hour of the 3-agent town:"
	@echo "    .venv/bin/python manage.py reverie --fork base_the_ville_isabella_maria_klaus --name my-town \\"
	@echo "      --command 'call -- load history the_ville/agent_history_init_n3.csv' --command 'run 360' --command fin"
	@echo ""
	ALLOWED_HOSTS="$(RUN_ALLOWED_HOSTS)" $(BIN)/daphne -b $(HOST) -p $(PORT) environment.asgi:application

test: setup lint
	$(BIN)/python -m pytest

setup: venv npm prepare

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	@echo "Installing Python packages (the first llama-cpp-python build takes ~10 minutes; pip caches it)"
	$(BIN)/pip install --progress-bar off -r requirements.txt -r requirements-dev.txt
	@touch $@

npm: node_modules/.installed

node_modules/.installed: package.json
	npm install --no-audit --no-fund
	@touch $@

prepare: venv
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py prepare
	$(BIN)/python manage.py collectstatic --no-input -v 0

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy llm writer training reverie/engine environment/training environment/charts.py

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python bench/gateway_overhead.py
	$(BIN)/python bench/tokens_per_second.py
	$(BIN)/python bench/concurrent_structured.py
	$(BIN)/python bench/vector_topk.py --sizes 1000 10000 100000

clean:
	rm -rf $(VENV) node_modules staticfiles

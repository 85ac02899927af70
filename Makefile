# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Use the course's MNIST copy beside the checkout when there is one (CI and the dev machines).
export LADDER_DATA_DIR ?= $(if $(wildcard ../shared/data/mnist),$(abspath ../shared/data),)

.PHONY: run test bench clean

$(BIN)/ladder: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The CPU wheel first: a bare `torch` requirement would pull several GB of CUDA.
	$(BIN)/python -m pip install -q torch==2.13.0
	# Ray is an optional extra of ladder; the tests start a real local instance, so they need it.
	$(BIN)/python -m pip install -q -e '.[test,ray]'
	touch $@

run: $(BIN)/ladder
	$(BIN)/ladder run --out runs/latest

test: $(BIN)/ladder
	$(BIN)/python -m pytest -q

# Every benchmark runs even when one before it fails; make exits non-zero if any failed.
BENCHMARKS := bench_loop bench_toys bench_mnist bench_mnist1d bench_full bench_report bench_contention bench_scale bench_play

bench: $(BIN)/ladder
	$(BIN)/python -m pip install -q -e '.[bench]'
	@failed=; for b in $(BENCHMARKS); do echo "== $$b"; \
		$(BIN)/python benchmarks/$$b.py || failed="$$failed $$b"; done; \
		if [ -n "$$failed" ]; then echo "failed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) runs

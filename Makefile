# The two commands of the README's quick start.
.PHONY: run test

run:
	@[ -x .venv/bin/python ] || python3 -m venv .venv
	@.venv/bin/python -m pip install -q --disable-pip-version-check -e .
	.venv/bin/python -m bot

test:
	bash .ci/test $(ARGS)

# The two commands of the README's quick start (and `make sandbox`: the sandbox even when
# .env holds a BOT_TOKEN).
.PHONY: run test sandbox install

install:
	@[ -x .venv/bin/python ] || python3 -m venv .venv
	@.venv/bin/python -m pip install -q --disable-pip-version-check -e .

run: install
	.venv/bin/python -m bot

sandbox: install
	BOT_TOKEN= SANDBOX=auto .venv/bin/python -m bot

test:
	bash .ci/test $(ARGS)

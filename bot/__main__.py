"""`python -m bot`: the whole service in one process (without BOT_TOKEN: the sandbox, bot/sandbox/runner.py)."""
from bot.app import main

raise SystemExit(main())

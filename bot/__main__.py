"""`python -m bot`: the whole service in one process."""
from bot.app import main

raise SystemExit(main())

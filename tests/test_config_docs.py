"""Every setting the service reads is documented in .env.example and in the README."""
from __future__ import annotations

from pathlib import Path

from services.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented():
    env = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [name.upper() for name in Settings.model_fields]
    assert [n for n in names if f"\n{n}=" not in env] == []
    assert [n for n in names if n not in readme] == []

"""The bot's command menu (setMyCommands) in Russian (the default) and English.

Admin commands are left out of the public menu; /help lists them to admins."""
from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from bot.texts import t

PUBLIC_COMMANDS = (
    "grades", "schedule", "homework", "more", "forecast", "finals", "children", "settings",
    "consent", "code", "help", "start", "forget",
)


def bot_commands(lang: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(lang, f"cmd_{name}")) for name in PUBLIC_COMMANDS]


async def set_commands(bot: Bot) -> None:
    """Register the command menu: Russian for everyone by default, English for English clients."""
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(bot_commands("ru"), scope=scope)
    await bot.set_my_commands(bot_commands("ru"), scope=scope, language_code="ru")
    await bot.set_my_commands(bot_commands("en"), scope=scope, language_code="en")

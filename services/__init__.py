"""Domain logic of ediary: sync, notifications, diary read models, linking, consent.

Never imports aiogram or bot/: the delivery channel is replaceable.
"""

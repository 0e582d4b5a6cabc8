"""Telegram bots through python-telegram-bot: webhook or long polling in, Bot API out."""

"""Token estimates: about four characters a token, the one measure sessiond uses.

sessiond does not know each model's tokenizer. Four characters a token is close for
English prose and code with common tokenizers; text in scripts such as Chinese or
Japanese takes about one token a character, so its estimate is low by up to four times.
The same measure is used everywhere (the context budget of a run, compaction's before
and after, the echo backend's usage), so figures compare with each other.
"""

from __future__ import annotations

from sessiond.domain.models import Message, Role

CHARS_PER_TOKEN = 4
DEFAULT_CONTEXT_TOKENS = 32_000
"""An agent's default context budget (`context_tokens`): what a run sends its model, the
system prompt included, is cut to about this many tokens. It fits the context window of
current hosted models with room for the reply; set it to what the model takes."""
IMAGE_TOKENS = 1_000
"""An attached image: providers charge a few hundred to about 1,600 tokens for one,
depending on its size; a fixed figure keeps the estimate stable."""


def tokens_of_length(chars: int) -> int:
    """Tokens of a text of `chars` characters; never zero for non-empty text."""
    return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def estimate_tokens(text: str) -> int:
    return tokens_of_length(len(text))


def message_tokens(message: Message) -> int:
    """A transcript entry: its text, a tool call's name and arguments, its images."""
    chars = len(message.text) + len(message.tool_input) + len(message.tool_name)
    return tokens_of_length(chars) + IMAGE_TOKENS * len(message.attachments)


def request_tokens(message: Message) -> int:
    """What an entry costs in a model's request: nothing for the ones no request carries
    (thinking, silent replies)."""
    if message.role is Role.THINKING or message.silent:
        return 0
    return message_tokens(message)

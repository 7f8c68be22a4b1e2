"""An ergonomic async client for sessiond.

async with Client("127.0.0.1:50051", token="...") as client:
    session = await client.sessions.create(label="demo")
    async for event in client.chat(session.key, "hi"):
        ...
"""

from sessiond.client._client import Client, Sessions, reply_text

__all__ = ["Client", "Sessions", "reply_text"]

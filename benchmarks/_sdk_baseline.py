"""The bare-SDK baseline of test_vs_sdk.py: the same requests, streamed with `AsyncOpenAI` + a semaphore.

`python _sdk_baseline.py REQUESTS.json CONCURRENCY [early|full]` replays recorded conversations (each
a list of request bodies, one per model turn, sent in order) through the official openai SDK, at most
CONCURRENCY conversations in flight, and prints one JSON line with what it did. Server and key come
from OPENAI_BASE_URL / OPENAI_API_KEY, as for any SDK user.

It is given every advantage our command has: `early` stops reading a turn's stream as soon as the
turn is settled (a shell command that reads a skill, or answer text), as our router does; exploring
turns are read to their end. It does not execute exploring commands (our command runs them in the
sandbox) and writes no cache, history or report.
"""

from __future__ import annotations

import asyncio
import json
import sys

from openai import AsyncOpenAI


async def turn(client: AsyncOpenAI, body: dict, skill_paths: list[str], early: bool) -> str:
    stream = await client.responses.create(**{k: v for k, v in body.items() if k != "stream"}, stream=True)
    outcome = "incomplete"
    try:
        async for event in stream:
            if event.type == "response.completed":
                outcome = "completed"
                break
            if not early:
                continue
            if event.type == "response.shell_call_command.done" and any(p in event.command for p in skill_paths):
                return "read"
            if event.type == "response.output_text.delta":
                return "answered"
    finally:
        await stream.close()
    return outcome


async def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        conversations = json.load(f)
    concurrency = int(sys.argv[2])
    early = (sys.argv[3] if len(sys.argv) > 3 else "early") == "early"
    client = AsyncOpenAI()
    sem = asyncio.Semaphore(concurrency)
    requests = 0

    async def conversation(bodies: list[dict]) -> str:
        nonlocal requests
        tools = bodies[0].get("tools", [])
        paths = [s["path"] + "/" for t in tools for s in t.get("environment", {}).get("skills", [])]
        last = ""
        async with sem:
            for body in bodies:
                last = await turn(client, body, paths, early)
                requests += 1
        return last

    outcomes = await asyncio.gather(*(conversation(c) for c in conversations))
    await client.close()
    print(json.dumps({"conversations": len(conversations), "requests": requests,
                      "read": outcomes.count("read"), "answered": outcomes.count("answered")}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

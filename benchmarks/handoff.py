"""Hand-off across replicas: how long a person's message takes to reach the agent, with 50 live hand-offs.

Two `loket serve` replicas on one database, as `load.py` starts them. On replica A, 50 people each
begin a conversation, ask for a person and are queued; on replica B the demo agent (Lotte Maes) claims
all 50 and follows each conversation's events (`GET /api/v1/agent/events/conversations/{id}`, 50
server-sent event streams open at once). Then every person sends messages to the agent on replica A
(`POST /api/v1/handoff/{id}/messages`), the next one 1 to 3 seconds (`--think`) after the agent heard
the last, as people type; `--think 0` sends as fast as it goes (then the figure is mostly queueing).
The latency is from sending on A to the event arriving on B, which crosses the database (PostgreSQL: the row,
then NOTIFY to B's listener; SQLite: B's subscribers poll the table every 0.5 s).

Printed: messages, p50/p95/max latency in ms, and messages per second. The load generator runs on the
same machine as both replicas and takes CPU from them.

Run: `.venv/bin/python benchmarks/handoff.py [--postgres] [--rounds N]` (about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import tempfile
import time

import httpx

from common import percentile
from load import LOKET, environment, prepare_database, start_replica, stop

CONVERSATIONS = 50
TOKEN = "Loket-Conversation-Token"


async def begin(client: httpx.AsyncClient, base: str) -> tuple[str, str]:
    """A person's conversation on replica A, queued for a person: (id, token)."""
    answer = (
        await client.post(f"{base}/api/v1/ask", json={"question": "Ik wil met een medewerker spreken"})
    ).json()
    conversation, token = answer["conversation_id"], answer["conversation_token"]
    queued = await client.post(
        f"{base}/api/v1/handoff", json={"conversation_id": conversation}, headers={TOKEN: token}
    )
    assert queued.json()["state"] == "queued", queued.text
    return conversation, token


async def follow(agent: httpx.AsyncClient, base: str, conversation: str, heard: asyncio.Queue) -> None:
    """Puts the moment of each message the person sends, as the agent's replica tells it."""
    async with agent.stream("GET", f"{base}/api/v1/agent/events/conversations/{conversation}") as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data:") and '"citizen_message"' in line:
                await heard.put(time.perf_counter())


async def talk(
    client: httpx.AsyncClient,
    base: str,
    held: tuple[str, str],
    heard: asyncio.Queue,
    rounds: int,
    think: float,
) -> list[float]:
    conversation, token = held
    latencies = []
    for number in range(rounds):
        await asyncio.sleep(random.uniform(think / 2, think * 1.5))
        sent = time.perf_counter()
        response = await client.post(
            f"{base}/api/v1/handoff/{conversation}/messages",
            json={"text": f"Bericht {number}"},
            headers={TOKEN: token},
        )
        response.raise_for_status()
        latencies.append((await asyncio.wait_for(heard.get(), 30) - sent) * 1000)
    return latencies


async def measure(a: str, b: str, rounds: int, think: float) -> None:
    timeout = httpx.Timeout(30, read=None)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with (
        httpx.AsyncClient(timeout=timeout, limits=limits) as people,
        httpx.AsyncClient(timeout=timeout, limits=limits) as agent,
    ):
        held = await asyncio.gather(*(begin(people, a) for _ in range(CONVERSATIONS)))
        assert (await agent.post(f"{b}/auth/demo-login", json={"person": "lotte-maes"})).status_code == 200
        for conversation, _ in held:
            claimed = await agent.post(f"{b}/api/v1/agent/conversations/{conversation}/claim", json={})
            assert claimed.status_code == 200, claimed.text
        queues = {conversation: asyncio.Queue() for conversation, _ in held}
        followers = [asyncio.create_task(follow(agent, b, c, q)) for c, q in queues.items()]
        await asyncio.sleep(2)  # every stream open and listening
        started = time.perf_counter()
        results = await asyncio.gather(*(talk(people, a, h, queues[h[0]], rounds, think) for h in held))
        elapsed = time.perf_counter() - started
        for follower in followers:
            follower.cancel()
    latencies = [value for result in results for value in result]
    rate = len(latencies) / elapsed
    print(f"hand-offs live: {CONVERSATIONS}; messages: {len(latencies)} in {elapsed:.1f} s ({rate:.0f}/s)")
    print(
        "person on A → agent on B, ms p50/p95/max: "
        f"{statistics.median(latencies):.0f} / {percentile(latencies, 0.95):.0f} / {max(latencies):.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", action="store_true", help="a real PostgreSQL started by pgserver")
    parser.add_argument("--rounds", type=int, default=10, help="messages per person (10)")
    parser.add_argument(
        "--think", type=float, default=2.0, help="seconds between a person's messages, on average (2)"
    )
    options = parser.parse_args()
    options.database_url = None
    with tempfile.TemporaryDirectory() as workdir:
        url, server = prepare_database(options, workdir)
        env = environment(url, workdir) | {"LOKET_OFFICE_HOURS": "always"}
        subprocess.run([str(LOKET), "db", "upgrade"], env=env, capture_output=True, text=True, check=True)
        replicas = [start_replica(name, env, workdir) for name in ("A", "B")]
        try:
            print(f"database: {url.split(':', 1)[0]}; replicas: 2; think: {options.think} s")
            asyncio.run(measure(replicas[0].base, replicas[1].base, options.rounds, options.think))
        finally:
            for replica in replicas:
                stop(replica.process)
            if server is not None:
                server.cleanup()


if __name__ == "__main__":
    main()

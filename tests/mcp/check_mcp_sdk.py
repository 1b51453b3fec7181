"""Drives the Passport's /mcp with the official MCP Python SDK and its OAuth client, as an
assistant's connector does: discovery from the 401, dynamic registration, authorization code
with PKCE and resource, tool calls, step-up on 403 insufficient_scope, refresh rotation, and
the end of access when the person revokes it.

The person's side runs in the Rust test that started this script (tests/api/mcp_sdk.rs): when
the SDK opens the authorization URL, this prints `AUTHORIZE <url>` and waits for
`CALLBACK <url>`, the address the consent page sent the browser back to. The last phase is
announced with `REVOKE`; the test answers `REVOKED` once the person revoked the app.
"""
import json
import os
import sys
import time
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

BASE = os.environ["MP_BASE_URL"]
URL = f"{BASE}/mcp"
REDIRECT = "http://127.0.0.1:33418/callback"


class Memory:
    """The client's token storage (the SDK's TokenStorage protocol)."""

    tokens = None
    client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, info):
        self.client = info


async def ask(line: str) -> str:
    print(line, flush=True)
    answer = await anyio.to_thread.run_sync(sys.stdin.readline)
    return answer.strip()


callback = {}
rounds = []


async def open_browser(url: str) -> None:
    rounds.append(url)
    reply = await ask(f"AUTHORIZE {url}")
    assert reply.startswith("CALLBACK "), reply
    callback["query"] = parse_qs(urlparse(reply[len("CALLBACK "):]).query)


async def came_back() -> AuthorizationCodeResult:
    q = callback["query"]
    if "error" in q:
        raise RuntimeError(f"authorization refused: {q['error'][0]}")
    return AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0])


def text_of(result) -> str:
    assert not result.is_error, result
    return result.content[0].text


async def main() -> None:
    storage = Memory()
    auth = OAuthClientProvider(
        server_url=URL,
        client_metadata=OAuthClientMetadata(redirect_uris=[REDIRECT], client_name="MCP SDK check"),
        storage=storage,
        redirect_handler=open_browser,
        callback_handler=came_back,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(URL, http_client=http), mode="legacy") as client:
            tools = sorted(t.name for t in (await client.list_tools()).tools)
            assert tools == ["list_categories", "remember", "search_memory"], tools
            assert len(rounds) == 1, "one authorization so far"
            assert storage.client.client_id, "registered dynamically"
            first = parse_qs(urlparse(rounds[0]).query)
            assert first["resource"] == [URL] and first["code_challenge_method"] == ["S256"], first
            assert storage.tokens.scope == "memory.preference.read memory.goal.read", storage.tokens.scope

            found = json.loads(text_of(await client.call_tool("search_memory", {"query": "morning drink"})))
            assert found["memories"], found
            assert {m["category"] for m in found["memories"]} <= {"preference", "goal"}, found
            assert "green tea" in found["memories"][0]["content"], found

            # Step-up: remember needs memory.fact.write, which the person did not give. The SDK
            # gets 403 insufficient_scope, asks the person again, and retries.
            said = text_of(await client.call_tool("remember", {"content": "I am allergic to peanuts.", "category": "fact"}))
            # remember waits up to 5 s for its memory; on a loaded machine it may answer that
            # the memory is queued instead, and it is then found a little later.
            assert said in ("Remembered.", "Queued: it will be remembered shortly."), said
            assert len(rounds) == 2, "a second authorization for the write scope"
            second = parse_qs(urlparse(rounds[1]).query)
            assert "memory.fact.write" in second["scope"][0].split(), second
            if said != "Remembered.":
                print("remember answered queued; polling search_memory for up to 30 s", file=sys.stderr)
            for _ in range(300):
                found = json.loads(text_of(await client.call_tool("search_memory", {"query": "peanut allergy"})))
                if found["memories"] and "peanuts" in found["memories"][0]["content"]:
                    break
                await anyio.sleep(0.1)
            assert found["memories"] and found["memories"][0]["content"] == "I am allergic to peanuts.", found

            # Refresh rotation: once the access token is past its time, the SDK refreshes and
            # keeps the new refresh token; the old one no longer works.
            old = storage.tokens
            auth.context.token_expiry_time = time.time() - 1
            await client.list_tools(cache_mode="bypass")
            assert storage.tokens.refresh_token != old.refresh_token, "rotated"
            assert storage.tokens.access_token != old.access_token
            meta = (await http.get(f"{BASE}/.well-known/oauth-authorization-server")).json()
            async with httpx2.AsyncClient() as plain:
                reused = await plain.post(meta["token_endpoint"], data={
                    "grant_type": "refresh_token", "refresh_token": old.refresh_token,
                    "client_id": storage.client.client_id, "resource": URL})
                assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant", reused.text

                # Using a refresh token twice ended its family: the SDK's access token is dead, so
                # its next call gets 401 and it asks the person again.
                await client.list_tools(cache_mode="bypass")
                assert len(rounds) == 3, "the SDK asked the person again"

                # The person revokes the app on /manage: the next call is refused with 401.
                token = storage.tokens.access_token
                probe = lambda: plain.post(URL, headers={
                    "Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                    "Content-Type": "application/json", "MCP-Protocol-Version": "2025-06-18"},
                    json={"jsonrpc": "2.0", "id": 9, "method": "tools/list"})
                assert (await probe()).status_code == 200
                assert await ask("REVOKE") == "REVOKED"
                refused = await probe()
                assert refused.status_code == 401, refused.status_code
                assert 'error="invalid_token"' in refused.headers["www-authenticate"], refused.headers
    print("OK", flush=True)


anyio.run(main)

"""Drives a running Memory Passport with the published `memoryo-sdk` client.

Run by tests/api/sdk.rs after a real consent: `python check_memoryo_sdk.py live|revoked`
with MP_BASE_URL, MP_AGENT_KEY, MP_TOKEN (read-write grant), MP_RO_AGENT_KEY, MP_RO_TOKEN
(read-only grant) in the environment. Exits non-zero on the first broken expectation.
"""
import os
import sys
import time

import httpx
from memoryos.errors import AuthError, MemoryOSError
from memoryos.types import MemoryJobStatusEnvelope
from memoryos.universal import UniversalMemory

BASE = os.environ["MP_BASE_URL"]
KEY, TOKEN = os.environ["MP_AGENT_KEY"], os.environ["MP_TOKEN"]
RO_KEY, RO_TOKEN = os.environ["MP_RO_AGENT_KEY"], os.environ["MP_RO_TOKEN"]
HEADER = "What you know about this user:"


def expect_error(call, status, code, kind=MemoryOSError):
    try:
        call()
    except kind as e:
        assert e.status_code == status and e.code == code, (e.status_code, e.code, str(e))
        return e
    raise AssertionError(f"expected {status} {code}")


def live():
    with UniversalMemory(agent_api_key=KEY, uui_token=TOKEN, base_url=BASE) as mem:
        added = mem.add(
            [
                {"role": "user", "content": "I prefer concise answers with Rust examples."},
                {"role": "assistant", "content": "Noted! I prefer to be helpful."},
            ],
            metadata={"conversation": "sdk-check"},
            idempotency_key="sdk-check-1",
        )
        assert added.status == "queued" and added.job_id, added
        again = mem.add([{"role": "user", "content": "I prefer concise answers with Rust examples."}], idempotency_key="sdk-check-1")
        assert again.job_id == added.job_id, "idempotency"

        # The SDK's own job model reads our job endpoint.
        headers = {"Authorization": f"ApiKey {KEY}", "X-MemoryOS-UUI": TOKEN}
        deadline = time.time() + 20
        while True:
            r = httpx.get(f"{BASE}/v1/universal/memories/jobs/{added.job_id}", headers=headers)
            job = MemoryJobStatusEnvelope.model_validate(r.json()).data
            if job.status in ("completed", "failed") or time.time() > deadline:
                break
            time.sleep(0.05)
        assert job.succeeded and job.memories_created == 1, job

        res = mem.get("Which language should code examples use?")
        assert res.has_context, res
        assert res.system_prompt_addition.startswith(HEADER), res.system_prompt_addition
        assert res.permission_status is None
        assert res.categories_available == ["preference", "fact"], res.categories_available
        assert len(res) == 1 and res[0].content == "I prefer concise answers with Rust examples.", res.items
        assert res[0].category == "preference" and res[0].access_count >= 1 and res[0].last_accessed is not None
        assert 0 < res.context_token_count <= 500
        for fmt in ("json", "xml"):
            assert mem.get("rust", format=fmt, context_max_tokens=200).has_context
        small = mem.get("rust", context_max_tokens=3)
        assert small.context_token_count <= 3 and not small.has_context

    with UniversalMemory(agent_api_key=RO_KEY, uui_token=RO_TOKEN, base_url=BASE) as ro:
        expect_error(lambda: ro.add([{"role": "user", "content": "I prefer tea."}]), 403, "UAT_002")
        assert ro.get("rust").has_context, "read-only grants still read"

    bad = UniversalMemory(agent_api_key="agent_sk_" + "A" * 43, uui_token=TOKEN, base_url=BASE)
    expect_error(lambda: bad.get("rust"), 401, "UAT_001", AuthError)
    # Another agent's key with this token is just as bad.
    crossed = UniversalMemory(agent_api_key=RO_KEY, uui_token=TOKEN, base_url=BASE)
    expect_error(lambda: crossed.get("rust"), 401, "UAT_001", AuthError)


def revoked():
    with UniversalMemory(agent_api_key=KEY, uui_token=TOKEN, base_url=BASE) as mem:
        res = mem.get("Which language should code examples use?")
        assert not res.has_context and len(res) == 0, res
        assert res.system_prompt_addition == "" and res.categories_available == []
        assert res.permission_status == "no_grant_for_user"
        expect_error(lambda: mem.add([{"role": "user", "content": "I prefer tea."}]), 403, "UAT_002")


if __name__ == "__main__":
    {"live": live, "revoked": revoked}[sys.argv[1]]()
    print(f"memoryo-sdk check '{sys.argv[1]}' passed")

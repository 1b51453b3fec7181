#!/usr/bin/env bash
# The guide's `POST /v1/agents/global` curl, verbatim but for the host, against the built
# binary, with a key made by `memory-passport tenant api-key`; plus the admin commands'
# answers to bad input.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="$ROOT/target/debug/memory-passport"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DATABASE_URL="sqlite://$work/passport.db"
export LEPTOS_SITE_ADDR="127.0.0.1:$port"
export MAIL_OUTBOX_DIR="$work/outbox"
cd "$ROOT"
"$BIN" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAILED: $1" >&2; fail=$((fail+1)); fi; }

echo "correct horse battery staple" | "$BIN" tenant create --email ops@yourapp.com --password-stdin >/dev/null
KEY="$("$BIN" tenant api-key --email ops@yourapp.com --name smoke 2>/dev/null)"
check "api-key prints a mem_ key" '[[ "$KEY" == mem_* ]]'

answer="$(curl -s -X POST http://127.0.0.1:$port/v1/agents/global \
  -H "Content-Type: application/json" \
  -H "Authorization: ApiKey $KEY" \
  -d '{
    "name": "Support Copilot",
    "description": "Customer support agent with access to approved user context.",
    "website_url": "https://yourapp.com",
    "logo_url": "https://yourapp.com/logo.png",
    "default_categories_requested": ["preference", "fact", "goal"],
    "redirect_uri": ""
  }')"
id="$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')"
secret="$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["raw_agent_api_key"])')"
check "data.id is a UUID" '[[ "$id" =~ ^[0-9a-f-]{36}$ ]]'
check "data.raw_agent_api_key is agent_sk_" '[[ "$secret" == agent_sk_* ]]'

public="$(curl -s http://127.0.0.1:$port/v1/agents/global/$id)"
check "public profile names the agent" '[[ "$public" == *"Support Copilot"* ]]'
check "public profile has no tenant or key" '[[ "$public" != *ops@yourapp.com* && "$public" != *agent_sk_* && "$public" != *mem_* ]]'
check "public profile shows pending" '[[ "$public" == *"\"verification_status\":\"pending\""* ]]'

check "agent verify" '"$BIN" agent verify "$id" | grep -q verified'
check "agent list shows it verified" '"$BIN" agent list | grep -q "$id.verified"'
check "verify of an unknown id fails" '! "$BIN" agent verify 00000000-0000-0000-0000-000000000000 2>/dev/null'
check "api-key for an unknown tenant fails" '! "$BIN" tenant api-key --email nobody@example.com --name x 2>/dev/null'
check "a short password is refused" '! (echo short | "$BIN" tenant create --email a@b.example --password-stdin 2>/dev/null)'
check "a duplicate tenant is refused" '! (echo "correct horse battery staple" | "$BIN" tenant create --email ops@yourapp.com --password-stdin 2>/dev/null)'
check "an unsupported DATABASE_URL is refused" '! DATABASE_URL=mysql://x "$BIN" agent list 2>/dev/null'
home="$(curl -s http://127.0.0.1:$port/)"
check "the page names the built wasm" '[[ "$home" == *"/pkg/memory-passport.wasm"* ]]'
check "the built wasm is served" '[ "$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:$port/pkg/memory-passport.wasm)" = 200 ]'
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/passport/send_code" -H "Origin: http://127.0.0.1:$port" --data-urlencode "email=smoke@example.com"
for _ in $(seq 50); do ls "$work/outbox/"*.eml >/dev/null 2>&1 && break; sleep 0.1; done
otp="$(grep -ho '^Subject: [0-9]\{6\}' "$work"/outbox/*.eml | head -1 | cut -c10-)"
check "a sign-in code was mailed to the outbox" '[[ "$otp" =~ ^[0-9]{6}$ ]]'
check "the sign-in code is not in the server log" '! grep -qE "Memory Passport code|(^|[^0-9.])$otp([^0-9]|$)" "$work/server.log"'
check "no secret in the server log" '! grep -q -e "$KEY" -e "$secret" "$work/server.log"'

echo "guide_curl: $pass passed, $fail failed"
[ "$fail" = 0 ]

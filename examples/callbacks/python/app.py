"""Memory Passport callback example: Flask, stdlib HTTP client."""
import base64
import hashlib
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request

from flask import Flask, abort, jsonify, redirect, request, session

MP_BASE_URL = os.environ["MP_BASE_URL"].rstrip("/")
AGENT_ID = os.environ["MP_AGENT_ID"]
AGENT_SECRET = os.environ["MP_AGENT_SECRET"]  # server-side only
APP_BASE_URL = os.environ["APP_BASE_URL"].rstrip("/")
CALLBACK = f"{APP_BASE_URL}/integrations/memoryos/callback"

app = Flask(__name__)
# Signs the session cookie; set APP_SECRET_KEY so sessions survive restarts and several workers.
app.secret_key = os.environ.get("APP_SECRET_KEY") or secrets.token_bytes(32)
TOKENS = {}  # app user -> uui_ token; a real app keeps this in its database, encrypted
PENDING = {}  # state -> PKCE verifier, kept server-side; a real app uses its session store


def current_user():
    session.setdefault("user", secrets.token_hex(8))
    return session["user"]


@app.get("/connect")
def connect():
    current_user()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    session["mp_state"] = secrets.token_urlsafe(24)
    PENDING[session["mp_state"]] = verifier
    query = urllib.parse.urlencode({
        "agent_id": AGENT_ID,
        "state": session["mp_state"],
        "redirect_uri": CALLBACK,
        "categories": "preference,goal",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    return redirect(f"{MP_BASE_URL}/consent?{query}")


@app.get("/integrations/memoryos/callback")
def callback():
    expected = session.pop("mp_state", None)
    verifier = PENDING.pop(expected, None) if expected else None
    if not expected or not verifier or not secrets.compare_digest(request.args.get("state", ""), expected):
        abort(400, "This link is not from your session. Start again from the app.")
    if request.args.get("status") == "denied":
        return "<h1>Not connected</h1><p>You chose not to share your memory. Nothing changed.</p>"
    body = json.dumps({"code": request.args.get("code", ""), "redirect_uri": CALLBACK, "code_verifier": verifier}).encode()
    req = urllib.request.Request(
        f"{MP_BASE_URL}/v1/universal/token",
        data=body,
        headers={"Authorization": f"ApiKey {AGENT_SECRET}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            data = json.load(res)["data"]
    except (urllib.error.URLError, TimeoutError, KeyError, ValueError):
        return "<h1>Not connected</h1><p>The connection could not be completed. Please try again.</p>", 502
    TOKENS[current_user()] = data["uui_token"]
    return f"<h1>Connected</h1><p>Shared categories: {', '.join(data['grant']['categories'])}.</p>"


@app.get("/status")
def status():
    token = TOKENS.get(current_user(), "")
    return jsonify({"connected": bool(token), "token_prefix": token[:4]})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5001")))

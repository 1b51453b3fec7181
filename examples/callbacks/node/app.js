// Memory Passport callback example: Express, Node's own fetch and crypto.
const crypto = require("node:crypto");
const express = require("express");

const MP_BASE_URL = process.env.MP_BASE_URL.replace(/\/$/, "");
const AGENT_ID = process.env.MP_AGENT_ID;
const AGENT_SECRET = process.env.MP_AGENT_SECRET; // server-side only
const APP_BASE_URL = process.env.APP_BASE_URL.replace(/\/$/, "");
const CALLBACK = `${APP_BASE_URL}/integrations/memoryos/callback`;

const sessions = new Map(); // session id -> { user, state, verifier }
const tokens = new Map(); // app user -> uui_ token; a real app keeps this in its database

function session(req, res) {
  const id = /(?:^|;\s*)sid=([\w-]+)/.exec(req.headers.cookie || "")?.[1];
  if (id && sessions.has(id)) return sessions.get(id);
  const sid = crypto.randomBytes(18).toString("base64url");
  const s = { user: crypto.randomBytes(8).toString("hex") };
  sessions.set(sid, s);
  res.cookie("sid", sid, { httpOnly: true, sameSite: "lax" });
  return s;
}

const app = express();

app.get("/connect", (req, res) => {
  const s = session(req, res);
  s.verifier = crypto.randomBytes(48).toString("base64url");
  s.state = crypto.randomBytes(24).toString("base64url");
  const challenge = crypto.createHash("sha256").update(s.verifier).digest("base64url");
  const query = new URLSearchParams({
    agent_id: AGENT_ID,
    state: s.state,
    redirect_uri: CALLBACK,
    categories: "preference,goal",
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  res.redirect(`${MP_BASE_URL}/consent?${query}`);
});

app.get("/integrations/memoryos/callback", async (req, res) => {
  const s = session(req, res);
  const { state, verifier } = s;
  delete s.state;
  delete s.verifier;
  const given = Buffer.from(String(req.query.state || ""));
  if (!state || given.length !== Buffer.byteLength(state) || !crypto.timingSafeEqual(given, Buffer.from(state))) {
    return res.status(400).send("This link is not from your session. Start again from the app.");
  }
  if (req.query.status === "denied") {
    return res.send("<h1>Not connected</h1><p>You chose not to share your memory. Nothing changed.</p>");
  }
  const answer = await fetch(`${MP_BASE_URL}/v1/universal/token`, {
    method: "POST",
    headers: { Authorization: `ApiKey ${AGENT_SECRET}`, "Content-Type": "application/json" },
    body: JSON.stringify({ code: String(req.query.code || ""), redirect_uri: CALLBACK, code_verifier: verifier }),
  });
  if (!answer.ok) return res.status(502).send("<h1>Not connected</h1><p>The connection expired. Please try again.</p>");
  const { data } = await answer.json();
  tokens.set(s.user, data.uui_token);
  res.send(`<h1>Connected</h1><p>Shared categories: ${data.grant.categories.join(", ")}.</p>`);
});

app.get("/status", (req, res) => {
  const token = tokens.get(session(req, res).user) || "";
  res.json({ connected: Boolean(token), token_prefix: token.slice(0, 4) });
});

app.listen(Number(process.env.PORT || 5002), "127.0.0.1");

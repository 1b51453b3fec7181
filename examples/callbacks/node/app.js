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

/** The visitor's session, if any; `create` starts one (only /connect does). */
function session(req, res, create = false) {
  const id = /(?:^|;\s*)sid=([\w-]+)/.exec(req.headers.cookie || "")?.[1];
  if (id && sessions.has(id)) return sessions.get(id);
  if (!create) return null;
  const sid = crypto.randomBytes(18).toString("base64url");
  const s = { user: crypto.randomBytes(8).toString("hex") };
  sessions.set(sid, s);
  setTimeout(() => sessions.delete(sid), 60 * 60 * 1000).unref(); // a real app uses its session store
  res.cookie("sid", sid, { httpOnly: true, sameSite: "lax" });
  return s;
}

const app = express();

app.get("/connect", (req, res) => {
  const s = session(req, res, true);
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
  const s = session(req, res) || {};
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
  try {
    const answer = await fetch(`${MP_BASE_URL}/v1/universal/token`, {
      method: "POST",
      headers: { Authorization: `ApiKey ${AGENT_SECRET}`, "Content-Type": "application/json" },
      body: JSON.stringify({ code: String(req.query.code || ""), redirect_uri: CALLBACK, code_verifier: verifier }),
    });
    if (!answer.ok) throw new Error(`token exchange answered ${answer.status}`);
    const { data } = await answer.json();
    tokens.set(s.user, data.uui_token);
    res.send(`<h1>Connected</h1><p>Shared categories: ${data.grant.categories.join(", ")}.</p>`);
  } catch (err) {
    // Express 4 does not catch rejected promises: answer here instead of crashing.
    res.status(502).send("<h1>Not connected</h1><p>The connection could not be completed. Please try again.</p>");
  }
});

app.get("/status", (req, res) => {
  const s = session(req, res);
  const token = (s && tokens.get(s.user)) || "";
  res.json({ connected: Boolean(token), token_prefix: token.slice(0, 4) });
});

app.listen(Number(process.env.PORT || 5002), "127.0.0.1");

// inbound_sdk.mjs - a running listener (inbound_server + bridge.yaml, embedded Kafka) against
// requests signed by the official SDKs, then the topics read back with kcat (independent
// client): exactly the accepted requests are there, byte-identical, with the ce_* headers.
//
// usage: node inbound_sdk.mjs /path/to/inbound_server
// Needs `npm ci` in tests/ and kcat on PATH; fails loudly when either is missing.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const testsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const server = process.argv[2];
if (!server || !existsSync(server)) {
  console.error(`inbound_sdk: server binary not found: ${server}`);
  process.exit(1);
}
for (const dep of ["standardwebhooks", "stripe", "@octokit/webhooks-methods"]) {
  if (!existsSync(path.join(testsDir, "node_modules", dep, "package.json"))) {
    console.error(`inbound_sdk: node module '${dep}' is missing: run 'npm ci' in ${testsDir}`);
    process.exit(1);
  }
}
if (spawnSync("kcat", ["-V"]).status !== 0) {
  console.error("inbound_sdk: kcat not found");
  process.exit(1);
}
const require = createRequire(path.join(testsDir, "package.json"));
const { Webhook } = require("standardwebhooks");
const Stripe = require("stripe");
const octokit = await import(
  path.join(testsDir, "node_modules/@octokit/webhooks-methods/dist-node/index.js")
);

// ---- config ----
const stdSecret = "whsec_" + crypto.randomBytes(24).toString("base64");
const stripeSecret = "whsec_" + crypto.randomBytes(16).toString("hex");
const ghSecret = "gh-" + crypto.randomBytes(12).toString("hex");
const shopSecret = "shp-" + crypto.randomBytes(12).toString("hex");
const slackSecret = "sl-" + crypto.randomBytes(12).toString("hex");
// Slack's documented example ("Verifying requests from Slack")
const slackDocSecret = "8f742231b10e8888abcd99yyyzzz85a5";
const slackDocTs = "1531420618";
const slackDocBody =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V" +
  "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=" +
  "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN" +
  "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const slackDocSig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

const dir = mkdtempSync(path.join(os.tmpdir(), "wb-inbound-"));
mkdirSync(path.join(dir, "connectors"));
const conn = (name, scheme, secret, extra = "") =>
  writeFileSync(
    path.join(dir, "connectors", `${name}.yaml`),
    `name: ${name}\ndirection: inbound\nverify: { scheme: ${scheme}, secrets: ["${secret}"]${
      extra ? ", " + extra : ""
    } }\ntopic: in.${name}\nmax_body: 64KiB\n`
  );
conn("std", "standard-webhooks", stdSecret, "tolerance: 5m");
conn("stripe", "stripe", stripeSecret, "tolerance: 5m");
conn("github", "github", ghSecret);
conn("shopify", "shopify", shopSecret);
conn("slack", "slack", slackSecret, "tolerance: 5m");
conn("slackdoc", "slack", slackDocSecret, "tolerance: 5000d");
writeFileSync(
  path.join(dir, "bridge.yaml"),
  `kafka:\n  bootstrap.servers: embedded\nembedded: { brokers: 1, partitions: 1 }\n` +
    `inbound:\n  listen: 127.0.0.1:0\n  publish_timeout: 5s\nconnectors: connectors\n`
);

const srv = spawn(server, [path.join(dir, "bridge.yaml")], { stdio: ["pipe", "pipe", "inherit"] });
const ready = await new Promise((resolve, reject) => {
  let out = "";
  const t = setTimeout(() => reject(new Error("server did not start")), 15000);
  srv.stdout.on("data", (d) => {
    out += d;
    const m = out.match(/READY (\d+) (\S+)/);
    if (m) {
      clearTimeout(t);
      resolve({ port: Number(m[1]), bootstrap: m[2] });
    }
  });
  srv.on("exit", (c) => reject(new Error(`server exited ${c}`)));
});
const base = `http://127.0.0.1:${ready.port}/webhooks`;

let passed = 0;
let failed = 0;
const accepted = {}; // topic -> [bodies]
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function assert(c, msg) {
  if (!c) throw new Error(msg);
}
async function post(name, headers, body, ct = "application/json") {
  const r = await fetch(`${base}/${name}`, {
    method: "POST",
    headers: { "content-type": ct, ...headers },
    body,
  });
  return { status: r.status, json: await r.json().catch(() => null), ct: r.headers.get("content-type") };
}
async function expectOk(name, headers, body, ct) {
  const r = await post(name, headers, body, ct);
  assert(r.status === 200 && r.json && r.json.topic === `in.${name}`, `want 200, got ${r.status} ${JSON.stringify(r.json)}`);
  (accepted[`in.${name}`] ||= []).push(body);
}
async function expect401(name, headers, body, what, ct) {
  const r = await post(name, headers, body, ct);
  assert(r.status === 401, `${what}: want 401, got ${r.status} ${JSON.stringify(r.json)}`);
  assert(r.ct === "application/problem+json", `${what}: content-type ${r.ct}`);
  assert(r.json.status === 401 && typeof r.json.detail === "string", JSON.stringify(r.json));
  return r.json;
}
const now = Math.floor(Date.now() / 1000);
const tamper = (b) => b.replace("}", ' }');

// ---- standard-webhooks ----
await check("standard-webhooks: SDK signature accepted; every bad variant 401", async () => {
  const wh = new Webhook(stdSecret);
  const body = JSON.stringify({ type: "order.paid", data: { id: "o1", note: "unicode é ✓" } });
  const sign = (id, ts, b = body, w = wh) => ({
    "webhook-id": id,
    "webhook-timestamp": String(ts),
    "webhook-signature": w.sign(id, new Date(ts * 1000), b),
  });
  await expectOk("std", sign("msg_sdk_1", now), body);
  const other = new Webhook("whsec_" + crypto.randomBytes(24).toString("base64"));
  await expect401("std", sign("msg_x1", now, body, other), body, "wrong secret");
  await expect401("std", sign("msg_x2", now), tamper(body), "altered body");
  const h = sign("msg_x3", now);
  delete h["webhook-signature"];
  await expect401("std", h, body, "missing header");
  await expect401("std", { ...sign("msg_x4", now), "webhook-signature": "v1,%%%" }, body, "malformed");
  const stale = await expect401("std", sign("msg_x5", now - 3600), body, "stale");
  assert(stale.type.endsWith("stale-timestamp"), JSON.stringify(stale));
  await expect401("std", sign("msg_x6", now + 3600), body, "future");
  // never echo an expected signature value
  const sig = sign("msg_x7", now, body, other);
  const p = await expect401("std", sig, tamper(body), "altered");
  const good = wh.sign("msg_x7", new Date(now * 1000), tamper(body)).split(",")[1];
  assert(!JSON.stringify(p).includes(good), "detail leaked the expected signature");
});

// ---- stripe ----
await check("stripe: generateTestHeaderString accepted; every bad variant 401", async () => {
  const stripe = new Stripe("sk_test_not_used");
  const body = JSON.stringify({ id: "evt_sdk_1", object: "event", type: "invoice.paid", data: { object: { id: "in_1" } } });
  const hdr = (b, secret = stripeSecret, ts = now) => ({
    "Stripe-Signature": stripe.webhooks.generateTestHeaderString({ payload: b, secret, timestamp: ts }),
  });
  await expectOk("stripe", hdr(body), body);
  await expect401("stripe", hdr(body, "whsec_wrong"), body, "wrong secret");
  await expect401("stripe", hdr(body), tamper(body), "altered body");
  await expect401("stripe", {}, body, "missing header");
  await expect401("stripe", { "Stripe-Signature": "t=abc,v1=zz" }, body, "malformed");
  await expect401("stripe", hdr(body, stripeSecret, now - 3600), body, "stale");
  await expect401("stripe", hdr(body, stripeSecret, now + 3600), body, "future");
});

// ---- github ----
await check("github: octokit sign accepted; every bad variant 401", async () => {
  const body = JSON.stringify({ action: "opened", number: 7 });
  const h = async (b, s = ghSecret) => ({
    "X-Hub-Signature-256": await octokit.sign(s, b),
    "X-GitHub-Delivery": crypto.randomUUID(),
    "X-GitHub-Event": "pull_request",
  });
  await expectOk("github", await h(body), body);
  await expect401("github", await h(body, "nope"), body, "wrong secret");
  await expect401("github", await h(body), tamper(body), "altered body");
  await expect401("github", { "X-GitHub-Delivery": "d1" }, body, "missing header");
  await expect401("github", { "X-Hub-Signature-256": "sha1=abc" }, body, "malformed");
});

// ---- shopify (documented formula: base64 HMAC-SHA256 of the raw body) ----
await check("shopify: documented formula accepted; every bad variant 401", async () => {
  const body = JSON.stringify({ id: 820982911946154508, email: "jon@example.com" });
  const h = (b, s = shopSecret) => ({
    "X-Shopify-Hmac-Sha256": crypto.createHmac("sha256", s).update(b).digest("base64"),
    "X-Shopify-Webhook-Id": crypto.randomUUID(),
    "X-Shopify-Topic": "orders/create",
  });
  await expectOk("shopify", h(body), body);
  await expect401("shopify", h(body, "nope"), body, "wrong secret");
  await expect401("shopify", h(body), tamper(body), "altered body");
  await expect401("shopify", {}, body, "missing header");
  await expect401("shopify", { "X-Shopify-Hmac-Sha256": "not base64!" }, body, "malformed");
});

// ---- slack ----
await check("slack: documentation example accepted (form body)", async () => {
  await expectOk(
    "slackdoc",
    { "X-Slack-Signature": slackDocSig, "X-Slack-Request-Timestamp": slackDocTs },
    slackDocBody,
    "application/x-www-form-urlencoded"
  );
});
await check("slack: node HMAC (v0:ts:body) accepted; every bad variant 401", async () => {
  const body = JSON.stringify({ type: "event_callback", event_id: "Ev123", event: { type: "app_mention" } });
  const h = (b, ts = now, s = slackSecret) => ({
    "X-Slack-Signature": "v0=" + crypto.createHmac("sha256", s).update(`v0:${ts}:${b}`).digest("hex"),
    "X-Slack-Request-Timestamp": String(ts),
  });
  await expectOk("slack", h(body), body);
  await expect401("slack", h(body, now, "nope"), body, "wrong secret");
  await expect401("slack", h(body), tamper(body), "altered body");
  await expect401("slack", { "X-Slack-Request-Timestamp": String(now) }, body, "missing header");
  await expect401("slack", { ...h(body), "X-Slack-Signature": "v1=abc" }, body, "malformed");
  await expect401("slack", h(body, now - 3600), body, "stale");
  await expect401("slack", h(body, now + 3600), body, "future");
});

// ---- duplicates: 200 duplicate:true, published once ----
await check("standard-webhooks: duplicate answered 200 and not published again", async () => {
  const wh = new Webhook(stdSecret);
  const body = JSON.stringify({ type: "order.paid", data: { id: "dup" } });
  const h = {
    "webhook-id": "msg_dup_1",
    "webhook-timestamp": String(now),
    "webhook-signature": wh.sign("msg_dup_1", new Date(now * 1000), body),
  };
  await expectOk("std", h, body);
  for (let i = 0; i < 3; i++) {
    const r = await post("std", h, body);
    assert(r.status === 200 && r.json.duplicate === true, JSON.stringify(r));
  }
});

// ---- read every topic back with kcat ----
await check("kcat: topics hold exactly the accepted bodies, byte-identical, with ce_* headers", () => {
  for (const name of ["std", "stripe", "github", "shopify", "slack", "slackdoc"]) {
    const topic = `in.${name}`;
    const r = spawnSync(
      "kcat",
      ["-C", "-b", ready.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-J"],
      { encoding: "utf8", timeout: 20000 }
    );
    assert(r.status === 0, `kcat ${topic}: ${r.stderr}`);
    const recs = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const want = accepted[topic] || [];
    assert(recs.length === want.length, `${topic}: ${recs.length} records, want ${want.length}`);
    for (let i = 0; i < want.length; i++) {
      assert(recs[i].payload === want[i], `${topic}[${i}] payload differs:\n${recs[i].payload}\n${want[i]}`);
      const hd = {};
      for (let j = 0; j + 1 < (recs[i].headers || []).length; j += 2) hd[recs[i].headers[j]] = recs[i].headers[j + 1];
      assert(hd.ce_specversion === "1.0", `${topic}: ${JSON.stringify(hd)}`);
      assert(hd.ce_source === `webhook-bridge/${name}`, `${topic}: ${JSON.stringify(hd)}`);
      assert(hd.ce_id && hd.ce_time && hd.ce_type && hd.traceparent && hd["content-type"], JSON.stringify(hd));
    }
    if (name === "stripe") assert(JSON.parse(recs[0].payload).id === "evt_sdk_1", "stripe id");
  }
});

srv.stdin.end();
const code = await new Promise((res) => {
  const t = setTimeout(() => {
    srv.kill("SIGKILL");
    res(-1);
  }, 15000);
  srv.on("exit", (c) => {
    clearTimeout(t);
    res(c);
  });
});
rmSync(dir, { recursive: true, force: true });
if (code !== 0) {
  console.log(`FAIL server exit code ${code}`);
  failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

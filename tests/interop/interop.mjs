// interop.mjs - webhook-bridge `sign` / `verify` against the official webhook SDKs.
//
// usage: node interop.mjs /path/to/webhook-bridge
//
// (a) an SDK signs, `webhook-bridge verify` must accept it (exit 0) and reject a tampered
//     body (exit 1); (b) `webhook-bridge sign` signs, the SDK must accept it. Ed25519 (v1a),
//     Slack and Shopify are checked with node's own crypto, independent of our code.
// Needs `npm ci` in tests/ first; fails loudly when the SDKs are missing.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const testsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = process.argv[2];
if (!bin || !existsSync(bin)) {
  console.error(`interop: webhook-bridge binary not found: ${bin}`);
  process.exit(1);
}
for (const dep of ["standardwebhooks", "stripe", "@octokit/webhooks-methods"]) {
  if (!existsSync(path.join(testsDir, "node_modules", dep, "package.json"))) {
    console.error(`interop: node module '${dep}' is missing: run 'npm ci' in ${testsDir} first`);
    process.exit(1);
  }
}
const require = createRequire(path.join(testsDir, "package.json"));
const { Webhook } = require("standardwebhooks");
const Stripe = require("stripe");
const octokit = await import(
  path.join(testsDir, "node_modules/@octokit/webhooks-methods/dist-node/index.js")
);

let passed = 0;
let failed = 0;
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
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function run(args, body, env = {}) {
  const r = spawnSync(bin, args, {
    input: body,
    encoding: "utf8",
    timeout: 20000,
    env: { ...process.env, ...env },
  });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function verifyCli(args, headers, body) {
  const h = [];
  for (const [k, v] of Object.entries(headers)) h.push("-H", `${k}: ${v}`);
  return run(["verify", ...args, ...h], body);
}
function expectOk(r, what) {
  assert(r.code === 0, `${what}: exit ${r.code}, stderr: ${r.err}`);
}
function expectReject(r, what) {
  assert(r.code === 1, `${what}: expected exit 1, got ${r.code} (${r.out}${r.err})`);
}
// "Name: value" lines -> object with lower-case names
function headersOf(out) {
  const h = {};
  for (const line of out.trim().split("\n")) {
    const i = line.indexOf(": ");
    assert(i > 0, `bad header line '${line}'`);
    h[line.slice(0, i).toLowerCase()] = line.slice(i + 2);
  }
  return h;
}

const now = Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: "order.paid", data: { id: "ord_1", amount: 1250 } });
const tampered = body.replace("1250", "1251");

// ---- Standard Webhooks ----
const whsec = "whsec_" + crypto.randomBytes(24).toString("base64");
const whsec2 = "whsec_" + crypto.randomBytes(32).toString("base64");

await check("standard: SDK signs, verify accepts / rejects tampering", () => {
  const wh = new Webhook(whsec);
  const sig = wh.sign("msg_interop1", new Date(now * 1000), body);
  const h = { "webhook-id": "msg_interop1", "webhook-timestamp": String(now), "webhook-signature": sig };
  const r = verifyCli(["--secret", whsec], h, body);
  expectOk(r, "verify");
  assert(r.out.includes("ok (delivery id msg_interop1)"), `stdout: ${r.out}`);
  expectReject(verifyCli(["--secret", whsec], h, tampered), "tampered body");
  expectReject(verifyCli(["--secret", whsec2], h, body), "wrong secret");
  // rotation: the second secret matches
  expectOk(verifyCli(["--secret", whsec2, "--secret", whsec], h, body), "rotation");
  // stale: 10 minutes later
  const s = verifyCli(["--secret", whsec, "--now", String(now + 600)], h, body);
  expectReject(s, "stale");
  assert(s.err.includes("timestamp too old"), s.err);
});

await check("standard: sign output verifies with the SDK (secret from env and file)", () => {
  const r = run(["sign", "--id", "msg_interop2", "--timestamp", "now"], body, {
    WB_SIGN_SECRET: whsec,
  });
  expectOk(r, "sign");
  const h = headersOf(r.out);
  assert(h["webhook-id"] === "msg_interop2", r.out);
  new Webhook(whsec).verify(body, h); // throws on mismatch
  let threw = false;
  try {
    new Webhook(whsec).verify(tampered, h);
  } catch {
    threw = true;
  }
  assert(threw, "SDK accepted a tampered body");
  const dir = mkdtempSync(path.join(os.tmpdir(), "wb-interop-"));
  try {
    const f = path.join(dir, "secrets");
    writeFileSync(f, `${whsec2}\n\n${whsec}\n`, { mode: 0o600 });
    const r2 = run(["sign", "--secret-file", f, "--id", "msg_f", "--timestamp", "now"], body);
    expectOk(r2, "sign --secret-file");
    new Webhook(whsec).verify(body, headersOf(r2.out));
    new Webhook(whsec2).verify(body, headersOf(r2.out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

await check("standard: rotation signs with every secret; SDK with either verifies", () => {
  const r = run(["sign", "--secret", whsec, "--secret", whsec2, "--id", "m3", "--timestamp", String(now)], body);
  expectOk(r, "sign");
  const h = headersOf(r.out);
  assert(h["webhook-signature"].split(" ").length === 2, r.out);
  new Webhook(whsec).verify(body, h);
  new Webhook(whsec2).verify(body, h);
});

// ---- Standard Webhooks v1a (Ed25519), checked with node's crypto ----
await check("standard v1a: our signature verifies with node crypto; node's with ours", () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ed25519");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d, "base64url");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
  const whsk = "whsk_" + seed.toString("base64");
  const whpk = "whpk_" + pub.toString("base64");
  const r = run(["sign", "--secret", whsk, "--id", "msg_ed", "--timestamp", String(now)], body);
  expectOk(r, "sign");
  const h = headersOf(r.out);
  const m = /^v1a,(\S+)$/.exec(h["webhook-signature"]);
  assert(m, `no v1a signature: ${r.out}`);
  const signed = Buffer.from(`msg_ed.${now}.${body}`);
  assert(crypto.verify(null, signed, publicKey, Buffer.from(m[1], "base64")), "node rejects our v1a");
  assert(!crypto.verify(null, Buffer.from(`msg_ed.${now}.${tampered}`), publicKey, Buffer.from(m[1], "base64")),
    "node accepts tampered");
  const nodeSig = crypto.sign(null, Buffer.from(`msg_n.${now}.${body}`), privateKey).toString("base64");
  const hh = { "webhook-id": "msg_n", "webhook-timestamp": String(now), "webhook-signature": `v1a,${nodeSig}` };
  expectOk(verifyCli(["--secret", whpk], hh, body), "verify v1a");
  expectReject(verifyCli(["--secret", whpk], hh, tampered), "verify v1a tampered");
});

// ---- Stripe ----
const stripe = new Stripe("sk_test_interop_not_used");
const stripeSecret = "whsec_" + crypto.randomBytes(16).toString("hex");
const stripeBody = JSON.stringify({ id: "evt_interop_1", object: "event", type: "charge.succeeded" });

await check("stripe: SDK test header verifies; tampering rejected", () => {
  const header = stripe.webhooks.generateTestHeaderString({
    payload: stripeBody,
    secret: stripeSecret,
    timestamp: now,
  });
  const r = verifyCli(["--scheme", "stripe", "--secret", stripeSecret], { "Stripe-Signature": header }, stripeBody);
  expectOk(r, "verify");
  assert(r.out.includes("ok (delivery id evt_interop_1)"), r.out);
  expectReject(verifyCli(["--scheme", "stripe", "--secret", stripeSecret], { "Stripe-Signature": header },
    stripeBody + " "), "tampered");
});

await check("stripe: sign output accepted by constructEvent", () => {
  const r = run(["sign", "--scheme", "stripe", "--secret", stripeSecret, "--timestamp", "now"], stripeBody);
  expectOk(r, "sign");
  const h = headersOf(r.out);
  const ev = stripe.webhooks.constructEvent(stripeBody, h["stripe-signature"], stripeSecret);
  assert(ev.id === "evt_interop_1", JSON.stringify(ev));
  let threw = false;
  try {
    stripe.webhooks.constructEvent(stripeBody.replace("1", "2"), h["stripe-signature"], stripeSecret);
  } catch {
    threw = true;
  }
  assert(threw, "constructEvent accepted a tampered body");
});

// ---- GitHub ----
const ghSecret = "gh-" + crypto.randomBytes(12).toString("hex");
await check("github: octokit sign verifies; tampering rejected", async () => {
  const sig = await octokit.sign(ghSecret, body);
  const h = { "X-Hub-Signature-256": sig, "X-GitHub-Delivery": "d-123" };
  const r = verifyCli(["--scheme", "github", "--secret", ghSecret], h, body);
  expectOk(r, "verify");
  assert(r.out.includes("ok (delivery id d-123)"), r.out);
  expectReject(verifyCli(["--scheme", "github", "--secret", ghSecret], h, tampered), "tampered");
});

await check("github: sign output accepted by octokit verify", async () => {
  const r = run(["sign", "--scheme", "github", "--secret", ghSecret, "--id", "d-9"], body);
  expectOk(r, "sign");
  const h = headersOf(r.out);
  assert(h["x-github-delivery"] === "d-9", r.out);
  assert(await octokit.verify(ghSecret, body, h["x-hub-signature-256"]), "octokit rejects ours");
  assert(!(await octokit.verify(ghSecret, tampered, h["x-hub-signature-256"])), "octokit accepts tampered");
});

// ---- Slack and Shopify: node's crypto as the independent implementation ----
await check("slack: node HMAC verifies with ours, ours with node", () => {
  const secret = crypto.randomBytes(16).toString("hex");
  const sig = "v0=" + crypto.createHmac("sha256", secret).update(`v0:${now}:${body}`).digest("hex");
  const h = { "X-Slack-Signature": sig, "X-Slack-Request-Timestamp": String(now) };
  expectOk(verifyCli(["--scheme", "slack", "--secret", secret], h, body), "verify");
  expectReject(verifyCli(["--scheme", "slack", "--secret", secret], h, tampered), "tampered");
  const r = run(["sign", "--scheme", "slack", "--secret", secret, "--timestamp", String(now)], body);
  expectOk(r, "sign");
  assert(headersOf(r.out)["x-slack-signature"] === sig, r.out);
});

await check("shopify: node HMAC verifies with ours, ours with node", () => {
  const secret = crypto.randomBytes(16).toString("hex");
  const sig = crypto.createHmac("sha256", secret).update(body).digest("base64");
  const h = { "X-Shopify-Hmac-Sha256": sig, "X-Shopify-Webhook-Id": "wh-1" };
  expectOk(verifyCli(["--scheme", "shopify", "--secret", secret], h, body), "verify");
  expectReject(verifyCli(["--scheme", "shopify", "--secret", secret], h, tampered), "tampered");
  const r = run(["sign", "--scheme", "shopify", "--secret", secret], body);
  expectOk(r, "sign");
  assert(headersOf(r.out)["x-shopify-hmac-sha256"] === sig, r.out);
});

// ---- transform: the body after filter/contract/transform, signed, verifies with the SDK ----
await check("transform: a transformed, contract-pinned body verifies with the SDK", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "wb-transform-"));
  try {
    const conn = path.join(dir, "c.yaml");
    writeFileSync(
      conn,
      [
        "name: acme",
        "direction: outbound",
        "url: https://acme.example/hook",
        'events: ["order.*"]',
        `signing: { secrets: ["${whsec}"] }`,
        "contract: order.paid@1",
        "filter: '.data.amount | tonumber > 100'",
        "transform: '{event: .type, order: .data.order_id, amount: .data.amount}'",
        "",
      ].join("\n"),
    );
    const v2 = {
      schema_version: 2, event_id: "6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d", order_id: "ord_7",
      customer_id: "cus_7", amount: "1234.50", currency: "EUR", payment_method: "CARD",
      paid_at: "2026-11-23T17:44:06.123Z", coupon_code: null, lines: [], sales_channel: "web",
      tax_amount: null,
    };
    const schemas = path.join(testsDir, "..", "schemas");
    const args = ["transform", "-c", conn, "--schemas", schemas, "--type", "order.paid",
      "--id", "msg_tr1"];
    const r = run(args, JSON.stringify(v2));
    expectOk(r, "transform");
    const [head, out] = r.out.split("\n\n");
    const h = headersOf(head);
    const sent = out.trim();
    assert(sent === '{"event":"order.paid","order":"ord_7","amount":"1234.50"}', sent);
    assert(h["webhook-id"] === "msg_tr1", head);
    new Webhook(whsec).verify(sent, h); // the signature covers the transformed body
    // filtered out: exit 1 and says so
    const f = run(args, JSON.stringify({ ...v2, amount: "99.00" }));
    assert(f.code === 1 && f.err.includes("filtered out"), `filtered: ${f.code} ${f.err}`);
    // a v2 field with the wrong type: the contract names it
    const b = run(args, JSON.stringify({ ...v2, currency: 5 }));
    assert(b.code === 1 && b.err.includes("field 'currency'"), `bad: ${b.code} ${b.err}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- CLI usage ----
await check("cli: --help exits 0 on stdout, bad usage exits 2", () => {
  for (const cmd of ["sign", "verify"]) {
    const r = run([cmd, "--help"], "");
    assert(r.code === 0 && r.out.includes("usage: webhook-bridge " + cmd), `${cmd} --help: ${r.code}`);
    assert(run([cmd, "--bogus"], "").code === 2, `${cmd} --bogus`);
  }
  assert(run(["sign", "--id", "x"], "", { WB_SIGN_SECRET: "" }).code === 2, "no secret");
  assert(run(["verify", "--secret", whsec, "-H", "no-colon"], "").code === 2, "bad -H");
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

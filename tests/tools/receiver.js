#!/usr/bin/env node
// receiver.js - a scriptable webhook receiver for integration tests.
//
// Verifies every request with the official `standardwebhooks` package, records one JSONL line
// per request, and answers according to a behaviour spec:
//
//   node receiver.js --secret whsec_... [--port 0] [--control-port 0] [--log FILE]
//        [--latency-ms 0-20] [--status 204]
//        [--status-plan '[{"count":3,"status":503,"retry_after":"2"}, ...]']
//        [--type-status '[{"type":"return.received","status":400}, ...]']
//        [--fail-first N]
//
//   --status-plan   entries applied in order to the first requests (count each), then the
//                   default status. retry_after sets a Retry-After header.
//   --type-status   per event type overrides: {"type","status","retry_after"?,"count"?,
//                   "delay_ms"?} (count: only the first N requests of that type; omitted:
//                   always; delay_ms: answer after that long). Checked first.
//   --fail-first N  every webhook-id's first N attempts answer 500.
//   --secret        may be repeated: a request verifies if any secret verifies it; the log
//                   line's "secret_index" says which one (0 = the first given; -1 = none).
//   --log-body      also log the event's "data" object (for payload comparisons).
//   --log-payload   also log the whole verified body as "payload" (transformed bodies are
//                   not envelopes).
//   unverifiable requests answer 401 (the bridge would dead-letter them: a test fails).
//
// Log line: {"t_us","id","type","key","seq","per_key_seq","status","verified","attempt","ts",
//            "path","secret_index"[,"data"]}
// (key/seq/per_key_seq from data; attempt = nth request with this webhook-id; ts = the
// webhook-timestamp header; t_us = arrival; written once the answer is sent, status 0 when
// the connection closed before that, e.g. while going down).
//
// Control API, on the main port and on the always-up control port:
//   POST /_control {"down":true|false, "for_ms":N?, "status":N|null, "retry_after":"S"?,
//                   "status_for_ms":N?}
//        down: close the listening socket and destroy open sockets (for_ms: come back later)
//        status: default answer from now on (null: back to --status), with a Retry-After
//        header when retry_after is given; status_for_ms: back to --status after that long
//   POST /_control {"id_status": {"<webhook-id>": status, ...}}  per-id answers (replace)
//   GET  /_stats -> {"received","verified","by_status":{..},"unique_2xx","down"}
// Prints `port=<n>` then `control_port=<n>` on start. SIGTERM/SIGINT: flush the log and exit 0.
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');

function loadStandardWebhooks() {
  const candidates = [
    'standardwebhooks',
    path.join(__dirname, '..', 'node_modules', 'standardwebhooks'),
  ];
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      /* try the next one */
    }
  }
  process.stderr.write(
    'receiver.js: the standardwebhooks package is missing: run `cd tests && npm ci` ' +
      '(or npm install standardwebhooks)\n');
  process.exit(3);
}

function parseArgs(argv) {
  const o = {
    port: 0, controlPort: 0, secret: null, log: null, latency: [0, 0], status: 204,
    statusPlan: [], typeStatus: [], failFirst: 0, host: '127.0.0.1', secrets: [],
    logBody: false,
    logPayload: false,
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--port': o.port = parseInt(v(), 10); break;
      case '--control-port': o.controlPort = parseInt(v(), 10); break;
      case '--host': o.host = v(); break;
      case '--secret': o.secret = v(); o.secrets.push(o.secret); break;
      case '--log-body': o.logBody = true; break;
      case '--log-payload': o.logPayload = true; break;
      case '--log': o.log = v(); break;
      case '--latency-ms': {
        const parts = v().split('-').map((x) => parseInt(x, 10));
        o.latency = [parts[0], parts.length > 1 ? parts[1] : parts[0]];
        if (o.latency.some(Number.isNaN) || o.latency[1] < o.latency[0])
          throw new Error('--latency-ms wants MIN-MAX');
        break;
      }
      case '--status': o.status = parseInt(v(), 10); break;
      case '--status-plan': o.statusPlan = JSON.parse(v()); break;
      case '--type-status': o.typeStatus = JSON.parse(v()); break;
      case '--fail-first': o.failFirst = parseInt(v(), 10); break;
      case '--help':
        process.stdout.write('see the comment at the top of receiver.js\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (!o.secret) throw new Error('--secret is required');
  o.secret = o.secrets[0];
  if (!Array.isArray(o.statusPlan) || !Array.isArray(o.typeStatus))
    throw new Error('--status-plan and --type-status take JSON arrays');
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv);
} catch (e) {
  process.stderr.write(`receiver.js: ${e.message}\n`);
  process.exit(2);
}
const { Webhook } = loadStandardWebhooks();
const wh = new Webhook(opts.secret);
const whs = opts.secrets.map((s) => new Webhook(s));
const logStream = opts.log ? fs.createWriteStream(opts.log, { flags: 'a' }) : null;

const stats = { received: 0, verified: 0, by_status: {}, unique_2xx: 0, down: false };
const attemptsById = new Map();
const ok2xx = new Set();
const typeCounts = new Map();
let planIndex = 0;
let planUsed = 0;
let defaultStatus = opts.status;
let defaultRetryAfter;
let statusTimer = null;
let idStatus = {};

function nowUs() {
  return Number(process.hrtime.bigint() / 1000n) + timeOffsetUs;
}
// hrtime is monotonic; anchor it to the wall clock once so t_us compares with produced_at_us.
const timeOffsetUs = Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n);

// Decide the answer for one request: {status, retryAfter}.
function decide(id, type) {
  if (Object.prototype.hasOwnProperty.call(idStatus, id)) return { status: idStatus[id] };
  for (const rule of opts.typeStatus) {
    if (rule.type !== type) continue;
    const n = (typeCounts.get(type) || 0) + 1;
    typeCounts.set(type, n);
    if (rule.count === undefined || n <= rule.count)
      return { status: rule.status, retryAfter: rule.retry_after, delayMs: rule.delay_ms };
  }
  while (planIndex < opts.statusPlan.length) {
    const step = opts.statusPlan[planIndex];
    if (planUsed < (step.count === undefined ? 1 : step.count)) {
      planUsed++;
      return { status: step.status, retryAfter: step.retry_after };
    }
    planIndex++;
    planUsed = 0;
  }
  if (opts.failFirst > 0 && (attemptsById.get(id) || 0) <= opts.failFirst)
    return { status: 500 };
  return { status: defaultStatus, retryAfter: defaultRetryAfter };
}

function answer(res, status, headers, body) {
  res.writeHead(status, headers);
  res.end(body);
}

function readBody(req, cb) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => cb(Buffer.concat(chunks)));
  req.on('error', () => {});
}

function statsJson() {
  return JSON.stringify(stats);
}

function handleControl(req, res, body) {
  if (req.method === 'GET' && req.url === '/_stats')
    return answer(res, 200, { 'content-type': 'application/json' }, statsJson());
  if (req.method === 'POST' && req.url === '/_control') {
    let cmd;
    try {
      cmd = JSON.parse(body.toString('utf8') || '{}');
    } catch (e) {
      return answer(res, 400, {}, 'bad json');
    }
    if (cmd.id_status && typeof cmd.id_status === 'object') idStatus = cmd.id_status;
    if (Object.prototype.hasOwnProperty.call(cmd, 'status')) {
      defaultStatus = cmd.status === null ? opts.status : cmd.status;
      defaultRetryAfter = cmd.status === null ? undefined : cmd.retry_after;
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = null;
      if (cmd.status_for_ms)
        statusTimer = setTimeout(() => {
          defaultStatus = opts.status;
          defaultRetryAfter = undefined;
          statusTimer = null;
        }, cmd.status_for_ms);
    }
    answer(res, 200, { 'content-type': 'application/json', connection: 'close' }, statsJson());
    if (cmd.down === true) {
      res.on('finish', () => {
        goDown();
        if (cmd.for_ms) setTimeout(goUp, cmd.for_ms);
      });
    } else if (cmd.down === false) {
      goUp();
    }
    return undefined;
  }
  return answer(res, 404, {}, 'not found');
}

function handleHook(req, res, body, tArrive) {
  const id = req.headers['webhook-id'] || '';
  let verified = false;
  let payload = null;
  let secretIndex = -1;
  for (let i = 0; i < whs.length && !verified; i++) {
    try {
      payload = whs[i].verify(body.toString('utf8'), req.headers);
      verified = true;
      secretIndex = i;
    } catch (e) {
      /* try the next secret */
    }
  }
  if (!verified) {
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch (e2) {
      payload = null;
    }
  }
  const data = payload && typeof payload === 'object' ? payload.data || {} : {};
  const type = payload && typeof payload === 'object' ? payload.type : undefined;
  const attempt = (attemptsById.get(id) || 0) + 1;
  attemptsById.set(id, attempt);
  stats.received++;
  if (verified) stats.verified++;
  let d = verified ? decide(id, type) : { status: 401 };
  const status = d.status;
  stats.by_status[status] = (stats.by_status[status] || 0) + 1;
  res.on('finish', () => {
    if (status >= 200 && status < 300 && id && !ok2xx.has(id)) {
      ok2xx.add(id);
      stats.unique_2xx++;
    }
  });
  // The line is written when the answer has left (or with status 0 when the connection died
  // first), so a logged 2xx is one the sender could have seen.
  let logged = false;
  const writeLog = (st) => {
    if (logged || !logStream) return;
    logged = true;
    const line = {
      t_us: tArrive, id, type, key: data.key, seq: data.seq, per_key_seq: data.per_key_seq,
      status: st, verified, attempt, ts: req.headers['webhook-timestamp'], path: req.url,
      secret_index: secretIndex,
    };
    if (opts.logBody) line.data = data;
    if (opts.logPayload) line.payload = payload;
    logStream.write(JSON.stringify(line) + '\n');
  };
  res.on('finish', () => writeLog(status));
  res.on('close', () => writeLog(res.writableFinished ? status : 0));
  const headers = {};
  if (d.retryAfter !== undefined) headers['retry-after'] = String(d.retryAfter);
  const [lo, hi] = opts.latency;
  const delay = d.delayMs !== undefined ? d.delayMs : lo + Math.floor(Math.random() * (hi - lo + 1));
  const send = () => answer(res, status, headers, status === 204 ? undefined : '');
  if (delay > 0) setTimeout(send, delay);
  else send();
}

function onRequest(req, res) {
  const tArrive = nowUs();
  readBody(req, (body) => {
    if (req.url === '/_stats' || req.url === '/_control') return handleControl(req, res, body);
    return handleHook(req, res, body, tArrive);
  });
}

// ---- main listener, which can go down and come back on the same port ----
let server = null;
let port = opts.port;
const sockets = new Set();

function startServer(cb) {
  server = http.createServer(onRequest);
  server.keepAliveTimeout = 60000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('error', (e) => {
    process.stderr.write(`receiver.js: listen: ${e.message}\n`);
    // the port may still be in TIME_WAIT-ish use for a moment: try again
    setTimeout(() => server.listen(port, opts.host), 100);
  });
  server.listen(port, opts.host, () => {
    port = server.address().port;
    if (cb) cb();
  });
}

function goDown() {
  if (stats.down) return;
  stats.down = true;
  server.close();
  for (const s of sockets) s.destroy();
  sockets.clear();
}

function goUp() {
  if (!stats.down) return;
  stats.down = false;
  startServer();
}

const control = http.createServer((req, res) => readBody(req, (b) => handleControl(req, res, b)));

startServer(() => {
  control.listen(opts.controlPort, opts.host, () => {
    process.stdout.write(`port=${port}\ncontrol_port=${control.address().port}\n`);
  });
});

function shutdown() {
  const done = () => process.exit(0);
  if (logStream) logStream.end(done);
  else done();
  setTimeout(done, 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

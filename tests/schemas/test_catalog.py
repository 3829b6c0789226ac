#!/usr/bin/env python3
"""test_catalog.py - `webhook-bridge schemas catalog` rendered, checked, and looked at in a real
browser.

usage: test_catalog.py WEBHOOK_BRIDGE SCHEMAS_DIR TESTS_DIR OUT_DIR

1. Markdown and HTML are rendered from schemas/ by the real binary.
2. Every event and version of schemas/manifest.json has its section; order.paid v2 lists what
   changed from v1 (from the compatibility checker); every example request's signature is
   recomputed by the official standardwebhooks SDK (node) and must match, and the example
   body must be the envelope of that event type.
3. Debian's headless Chromium loads the HTML page: --dump-dom must hold the same sections
   (the page parses as HTML, nothing is lost in escaping), and --screenshot writes
   OUT_DIR/catalog.png for a person to look at.
A missing node module or chromium FAILS the test (never a silent skip).
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL " + msg)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, **kw)


def main():
    bridge, schemas, tests_dir, out_dir = sys.argv[1:5]
    os.makedirs(out_dir, exist_ok=True)
    md_path = os.path.join(out_dir, "catalog.md")
    html_path = os.path.join(out_dir, "catalog.html")
    for fmt, path in (("markdown", md_path), ("html", html_path)):
        r = run([bridge, "schemas", "catalog", schemas, "--format", fmt, "-o", path])
        check(r.returncode == 0, f"catalog --format {fmt}: exit {r.returncode}: {r.stderr}")
    r = run([bridge, "schemas", "catalog", schemas, "--format", "pdf"])
    check(r.returncode == 2 and "unknown format" in r.stderr, "bad --format must exit 2")
    md = open(md_path, encoding="utf-8").read()
    page = open(html_path, encoding="utf-8").read()

    manifest = json.load(open(os.path.join(schemas, "manifest.json")))
    for event, versions in manifest.items():
        check(f"\n## {event}\n" in md.replace("\\_", "_"), f"markdown: no section for {event}")
        for v, sid in versions.items():
            check(f"### {event} v{v}" in md, f"markdown: no section for {event} v{v}")
            check(f"registry id {sid}" in md, f"markdown: {event} v{v} lacks its id {sid}")
            check(f'<h3 id="{event}-v{v}">' in page, f"html: no section for {event} v{v}")
    for line in (
        "field 'payment\\_method': symbols added: BNPL, GIFT\\_CARD",
        "field 'sales\\_channel' added (default \"web\")",
        "field 'tax\\_amount' added (default null)",
        "field 'full\\_name' renamed to 'contact\\_name'",
        "field 'quantity\\_on\\_hand': type changed from int to long",
    ):
        check(line in md, f"markdown: missing change line {line!r}")

    # every example: http block then json block; the SDK recomputes the signature
    examples = re.findall(r"```http\n(.*?)```\n\n```json\n(.*?)\n```", md, re.S)
    n_versions = sum(len(v) for v in manifest.values())
    check(len(examples) == n_versions, f"{len(examples)} examples for {n_versions} versions")
    sdk = os.path.join(tests_dir, "node_modules", "standardwebhooks", "package.json")
    if not os.path.exists(sdk):
        check(False, f"node module standardwebhooks missing: run `npm ci` in {tests_dir}")
    else:
        cases = []
        for head, body in examples:
            h = dict(l.split(": ", 1) for l in head.strip().split("\n")[1:])
            cases.append({"h": h, "body": body})
            env = json.loads(body)
            check(set(env) == {"type", "timestamp", "data"}, f"envelope keys {sorted(env)}")
            check(env["type"] in manifest, f"example type {env['type']}")
        js = (
            "const {Webhook}=require('standardwebhooks');"
            "const cases=JSON.parse(require('fs').readFileSync(0,'utf8'));"
            "const wh=new Webhook(process.argv[1]);let bad=0;"
            "for(const c of cases){const s=wh.sign(c.h['webhook-id'],"
            "new Date(Number(c.h['webhook-timestamp'])*1000),c.body);"
            "if(s!==c.h['webhook-signature']){bad++;console.log('mismatch',s,c.h);}}"
            "console.log(cases.length+' signatures checked, '+bad+' bad');process.exit(bad?1:0);"
        )
        r = run(["node", "-e", js, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
                input=json.dumps(cases), cwd=tests_dir)
        print(r.stdout.strip())
        check(r.returncode == 0, f"SDK signature check: {r.stdout}{r.stderr}")
    # `webhook-bridge verify` accepts the first example too (with the example's clock)
    head, body = examples[0]
    h = dict(l.split(": ", 1) for l in head.strip().split("\n")[1:])
    args = [bridge, "verify", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--now",
            h["webhook-timestamp"]]
    for k in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        args += ["-H", f"{k}: {h[k]}"]
    r = run(args, input=body)
    check(r.returncode == 0, f"verify of the example: {r.stdout}{r.stderr}")

    # the browser: a real HTML parser and renderer
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        check(False, "chromium not found (bash .ci/deps --test installs Debian's chromium)")
    else:
        prof = tempfile.mkdtemp(prefix="wb-chromium-")
        base = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={prof}"]
        url = "file://" + os.path.abspath(html_path)
        try:
            r = run(base + ["--dump-dom", url])
            dom = r.stdout
            check(r.returncode == 0 and "</html>" in dom, f"chromium --dump-dom: {r.stderr[-400:]}")
            text = html.unescape(re.sub(r"<[^>]+>", "", dom))
            check("Verifying a webhook (Standard Webhooks)" in text, "dom: verification section")
            for event, versions in manifest.items():
                for v in versions:
                    check(f"{event} v{v}" in text, f"dom: {event} v{v}")
            check(dom.count("<table>") == n_versions, "dom: one field table per version")
            sig = re.search(r"webhook-signature: (v1,[A-Za-z0-9+/=]+)", md).group(1)
            check(sig in text, "dom: the example signature survives HTML escaping")
            check("field 'sales_channel' added (default \"web\")" in text, "dom: change lines")
            png = os.path.join(out_dir, "catalog.png")
            if os.path.exists(png):
                os.remove(png)
            r = run(base + [f"--screenshot={png}", "--window-size=1280,2400", url])
            ok = os.path.exists(png) and os.path.getsize(png) > 20000
            if ok:
                with open(png, "rb") as f:
                    hdr = f.read(24)
                w, hgt = int.from_bytes(hdr[16:20], "big"), int.from_bytes(hdr[20:24], "big")
                ok = hdr[:8] == b"\x89PNG\r\n\x1a\n" and (w, hgt) == (1280, 2400)
            check(ok, f"chromium --screenshot: {r.stderr[-400:]}")
            print(f"screenshot: {png}")
        finally:
            shutil.rmtree(prof, ignore_errors=True)

    passed = 0 if failures else 1
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

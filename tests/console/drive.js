// Drives the zonegate admin console in Debian's headless Chromium through playwright-core,
// presenting the admin client certificate (PKCS#12). Run by tests/console.rs; prints one
// line "RESULT <json>" and the screenshot paths.
//
// Environment: CONSOLE_URL (https://localhost:PORT), ADMIN_P12, ADMIN_P12_PASSWORD,
// NODE_EXTRA_CA_CERTS (the test CA, so the server certificate is verified), OUT_DIR,
// CHROMIUM (default /usr/bin/chromium), EXPECT_REQUESTS (requests made before, for the
// usage chart).
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`missing environment variable ${k}`);
  return v;
};
const base = env("CONSOLE_URL").replace(/\/$/, "");
const out = env("OUT_DIR");
const expectRequests = Number(env("EXPECT_REQUESTS", "0"));
fs.mkdirSync(out, { recursive: true });

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

(async () => {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "zg-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env("CHROMIUM", "/usr/bin/chromium"),
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    locale: "de-DE",
    clientCertificates: [{ origin: base, pfxPath: env("ADMIN_P12"), passphrase: env("ADMIN_P12_PASSWORD") }],
  });
  const shots = [];
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  // The one expected failure is the second download of the bundle (410 Gone).
  page.on("console", (m) => { if (m.type() === "error" && !m.text().includes("status of 410")) consoleErrors.push(m.text()); });
  const shot = async (name) => {
    const p = path.join(out, `${name}.png`);
    await page.screenshot({ path: p, fullPage: true });
    shots.push(p);
  };
  const visit = async (p) => {
    const r = await page.goto(base + p);
    check(r && r.status() === 200, `GET ${p} -> ${r && r.status()}`);
    return r;
  };
  const result = {};
  try {
    // Status.
    const r = await visit("/");
    check((await page.locator("html").getAttribute("lang")) === "de", "German by default");
    check(r.headers()["x-frame-options"] === "DENY", "X-Frame-Options");
    check((r.headers()["content-security-policy"] || "").includes("frame-ancestors 'none'"), "CSP");
    check(r.headers()["cache-control"] === "no-store", "no-store");
    await page.locator("text=Geladene Modelle").waitFor();
    await shot("01-status");

    // Zones and policy, then classify a synthetic text.
    await visit("/zones");
    await shot("02-zones");
    await page.fill("#text", "Frau Marta Gündoğdu, geb. 20.08.1947, wohnhaft Lindenweg 12, beantragt Grundsicherung im Alter.");
    await page.selectOption("#declared", "internal");
    await Promise.all([page.waitForNavigation(), page.click("#classify button[type=submit]")]);
    await page.locator("#classify-result").waitFor();
    const decisions = {};
    for (const row of await page.locator("#decisions tbody tr").all()) {
      decisions[await row.getAttribute("data-zone")] = await row.getAttribute("data-decision");
    }
    result.decisions = decisions;
    result.effective = (await page.locator("#effective-class").innerText()).trim();
    check(decisions.green === "allow", `green allows everything: ${JSON.stringify(decisions)}`);
    check(decisions.red && decisions.red !== "allow", `red must not receive personal data: ${JSON.stringify(decisions)}`);
    await page.locator("#classify").scrollIntoViewIfNeeded();
    await shot("03-zones-classified");

    // Usage: the chart of the requests made before.
    await visit("/usage");
    const points = await page.locator("#chart-zone svg circle").count();
    const requests = await page.locator("#totals tbody tr td:nth-child(4)").allInnerTexts();
    const total = requests.map((t) => Number(t.replace(/\./g, ""))).reduce((a, b) => a + b, 0);
    result.usage = { points, requests: total };
    check(points >= 1, "the zone chart has a data point for today");
    check(total >= expectRequests, `usage shows ${total} requests, expected at least ${expectRequests}`);
    check(await page.locator("#chart-zone svg polyline").count() >= 1, "a line per zone");
    await shot("04-usage");

    // Audit.
    await visit("/audit");
    check(await page.locator("#chain.ok").count() === 1, "chain verifies");
    await shot("05-audit");

    // Certificates: issue a bundle, download it once.
    await visit("/certificates");
    await shot("06-certificates");
    await page.fill("input[name=user]", "erika.mustermann");
    await page.fill("input[name=department]", "Ordnungsamt");
    await Promise.all([page.waitForNavigation(), page.click("form.issue button[type=submit]")]);
    await page.locator("#issued").waitFor();
    result.serial = (await page.locator("#issued-serial").innerText()).trim();
    result.password = (await page.locator("#p12-password").innerText()).trim();
    await shot("07-certificate-issued");
    const href = await page.locator("#bundle-download").getAttribute("href");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#bundle-download")]);
    result.p12 = path.join(out, "erika.mustermann.p12");
    await download.saveAs(result.p12);
    check(fs.statSync(result.p12).size > 500, "bundle downloaded");
    const again = await page.goto(base + href);
    result.second_download_status = again.status();
    check(again.status() === 410, `second download is gone: ${again.status()}`);

    // Revoke it again (the confirm dialog is accepted).
    await visit("/certificates");
    page.once("dialog", (d) => d.accept());
    const row = page.locator(`#certs tr[data-serial="${result.serial}"]`);
    await Promise.all([page.waitForNavigation(), row.locator("button").click()]);
    await page.locator("#flash").waitFor();
    check((await page.locator(`#certs tr[data-serial="${result.serial}"]`).getAttribute("data-status")) === "revoked", "revoked in the list");
    await shot("08-certificate-revoked");

    // Knowledge: create a collection, upload a document with a stricter class, test-search it.
    await visit("/knowledge");
    await page.fill("#create input[name=name]", "IT-Hinweise");
    await page.selectOption("#create select[name=class]", "internal");
    await page.fill("#create input[name=owner_department]", "IT");
    await page.selectOption("#create select[name=read]", "everyone");
    await Promise.all([page.waitForNavigation(), page.click("#create button[type=submit]")]);
    await page.locator("#collection").waitFor();
    const doc = path.join(out, "wlan-merkblatt.md");
    fs.writeFileSync(doc, "# Gäste-WLAN im Rathaus\n\nDas Gäste-WLAN heißt Rathaus-Gast. Zugangscodes gibt die Information im Foyer aus; sie gelten einen Tag.\n");
    await page.setInputFiles("#collection input[type=file]", doc);
    await page.selectOption("#collection select[name=class]", "personal");
    await Promise.all([page.waitForNavigation(), page.click("#collection form[enctype] button[type=submit]")]);
    await page.locator("#upload-result").waitFor();
    const knowledge = { upload: await page.locator("#upload-result li").first().getAttribute("data-status") };
    check(knowledge.upload === "added", `upload: ${knowledge.upload}`);
    await page.fill("#query", "Wo bekomme ich einen Zugangscode für das Gäste-WLAN?");
    await Promise.all([page.waitForNavigation(), page.click("#collection button:has-text('Suchen')")]);
    knowledge.hits = await page.locator("#hits li").count();
    check(knowledge.hits >= 1, "the test search finds the document");
    result.knowledge = knowledge;
    await shot("09-knowledge");

    // English switch, remembered by cookie.
    await visit("/audit?lang=en");
    check((await page.locator("html").getAttribute("lang")) === "en", "English via ?lang=en");
    await visit("/");
    check((await page.locator("html").getAttribute("lang")) === "en", "English remembered");
    await shot("10-status-en");
    result.console_errors = consoleErrors;
    check(consoleErrors.length === 0, `no console errors (CSP): ${consoleErrors.join(" | ")}`);
  } catch (e) {
    await shot("failure").catch(() => {});
    console.error(e && e.stack ? e.stack : String(e));
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    process.exit(1);
  }
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  console.log("RESULT " + JSON.stringify(result));
  for (const s of shots) console.log("screenshot " + s);
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});

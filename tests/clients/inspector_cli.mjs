// Independent client test: the MCP Inspector CLI (@modelcontextprotocol/inspector@2.12.0, `--cli`) against
// the switchboard binary, over streamable HTTP (bearer header) and over stdio.
//
//   tools/list --strict              must exit 0 and report no schema portability finding at all: every
//                                    error AND warning is parsed from stderr, counted against the Inspector's
//                                    summary line, and printed (grouped by rule, then one line each); any
//                                    finding fails the step.
//   initialize --protocol-era legacy must report 2025-11-25 (the Inspector's default era for ad-hoc runs),
//   tools/call session_start         must exit 0 with the session in the output, in that era.
//   initialize --protocol-era modern must report 2026-07-28 (server/discover, no fallback to initialize),
//   tools/call session_start         again with --protocol-era modern.
//
// usage: NODE22 inspector_cli.mjs --bin ABS_SWITCHBOARD --repo GIT_REPO --url URL --home TMP_HOME [--report FILE]
// Run it with the Node 22 binary (the Inspector declares engines >= 22.19); it starts the Inspector with the
// same node (process.execPath), HOME set to --home (the Inspector writes ~/.mcp-inspector there).
// --report FILE receives the full --strict stderr of every tools/list run.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    bin: { type: 'string' },
    repo: { type: 'string' },
    url: { type: 'string' },
    home: { type: 'string' },
    report: { type: 'string' },
  },
});
if (!opt.bin || !opt.repo || !opt.url || !opt.home) {
  console.error('usage: node22 inspector_cli.mjs --bin ABS_SWITCHBOARD --repo GIT_REPO --url URL --home TMP_HOME [--report FILE]');
  process.exit(2);
}

const require = createRequire(import.meta.url);
const inspectorPkg = require.resolve('@modelcontextprotocol/inspector/package.json');
const INSPECTOR = join(dirname(inspectorPkg), 'clients/launcher/build/index.js');
const INSPECTOR_VERSION = require(inspectorPkg).version;
const BOUND_MS = 60_000;
const RUN_TAG = randomBytes(2).toString('hex');
if (opt.report) writeFileSync(opt.report, '');

class Check extends Error {}
function check(cond, what) {
  if (!cond) throw new Check(what);
}

function cleanEnv() {
  const env = { HOME: opt.home };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_') && k !== 'HOME') env[k] = v;
  return env;
}

/** Runs a command; resolves {code, stdout, stderr} whatever the exit code. */
function exec(file, args, cwd) {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: cleanEnv(), timeout: BOUND_MS, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : `${err.code ?? ''}${err.signal ?? ''}` || 'error') : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
async function sb(args) {
  const r = await exec(opt.bin, args, opt.repo);
  check(r.code === 0, `\`switchboard ${args.join(' ')}\` exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
function inspector(args) {
  return exec(process.execPath, [INSPECTOR, '--cli', ...args], opt.repo);
}

/** Parses the --strict report: blocks "Warning|Error: tool "NAME"\n  Path: P\n  Issue: I\n  Suggestion: S". */
function parseFindings(stderr) {
  const findings = [];
  const re = /^(Warning|Error): tool "([^"]+)"\n\s+Path: (.*)\n\s+Issue: (.*)$/gm;
  for (const m of stderr.matchAll(re)) {
    const issue = m[4].replace(/\. This is legal.*$/, '').replace(/ — .*$/, '');
    findings.push({ severity: m[1].toLowerCase(), tool: m[2], path: m[3], issue });
  }
  const summary = stderr.match(/^(\d+) errors?, (\d+) warnings? across (\d+) tools?\.$/m);
  return { findings, summary: summary?.[0] ?? null };
}
function summarise(findings) {
  const byIssue = new Map();
  for (const f of findings) {
    const key = `${f.severity}: ${f.issue} in ${f.path.split('.')[0]}`;
    if (!byIssue.has(key)) byIssue.set(key, new Set());
    byIssue.get(key).add(f.tool);
  }
  return [...byIssue].map(([k, tools]) => `${k} — ${findings.filter((f) => `${f.severity}: ${f.issue} in ${f.path.split('.')[0]}` === k).length}× in ${tools.size} tools`);
}

const results = {};
const warningsReport = {};
async function step(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results[name] = `PASS (${((Date.now() - t0) / 1000).toFixed(1)}s)${note ? ` ${note}` : ''}`;
  } catch (e) {
    console.error(`[inspector ${name}] FAILED:`, e instanceof Check ? e.message : e);
    results[name] = `FAIL: ${e?.message}`.slice(0, 600);
  }
}

async function toolsListStrict(kind, target) {
  const r = await inspector([...target.before, '--method', 'tools/list', '--strict', ...target.after]);
  if (opt.report) appendFileSync(opt.report, `==== ${kind}: inspector --cli --method tools/list --strict (exit ${r.code})\n${r.stderr}\n`);
  const { findings, summary } = parseFindings(r.stderr);
  check(r.code === 0, `tools/list --strict exited ${r.code} (6 = unportable schema): ${findings.filter((f) => f.severity === 'error').map((f) => `${f.tool} ${f.path}: ${f.issue}`).join('; ') || r.stderr.slice(-1500)}`);
  let listed;
  try {
    listed = JSON.parse(r.stdout);
  } catch (e) {
    throw new Check(`tools/list output is not JSON: ${r.stdout.slice(0, 300)}`);
  }
  const tools = (listed.tools ?? listed.result?.tools ?? []).map((t) => t.name);
  for (const name of ['session_start', 'message_send', 'message_wait']) check(tools.includes(name), `tools/list lacks ${name}`);
  check(!findings.some((f) => f.severity === 'error'), `error-severity findings: ${JSON.stringify(findings.filter((f) => f.severity === 'error'))}`);
  if (findings.length) {
    check(summary, `findings printed without the summary line: ${r.stderr.slice(-500)}`);
    const [, errors, warnings] = summary.match(/^(\d+) errors?, (\d+) warnings?/).map(Number);
    const counted = { error: 0, warning: 0 };
    for (const f of findings) counted[f.severity] += 1;
    check(counted.error === errors && counted.warning === warnings,
      `parsed ${counted.error} errors/${counted.warning} warnings but the Inspector says "${summary}"`);
  } else {
    // No finding parsed: the run must not have printed any in a shape the parser missed.
    check(!/^(Warning|Error): /m.test(r.stderr) && (!summary || /^0 errors?, 0 warnings?/.test(summary)),
      `--strict printed findings the parser did not recognise: ${r.stderr.slice(-1500)}`);
  }
  warningsReport[kind] = { summary: summary ?? '0 errors, 0 warnings', lines: summarise(findings), findings };
  // Zero findings required: a portable schema draws no warning either.
  check(findings.length === 0, `--strict reported ${summary} (listed below; the full report is in ${opt.report ?? 'stderr'})`);
  return `${tools.length} tools; ${summary ?? 'no portability findings'}`;
}

async function negotiated(target, era, want) {
  const r = await inspector([...target.before, '--protocol-era', era, '--format', 'json', '-q', '--method', 'initialize', ...target.after]);
  check(r.code === 0, `initialize (--protocol-era ${era}) exited ${r.code}: ${(r.stdout + r.stderr).slice(-1500)}`);
  const out = JSON.parse(r.stdout);
  const version = (out.result ?? out).protocolVersion;
  check(version === want, `--protocol-era ${era} negotiated ${version}, expected ${want}`);
  return version;
}

async function sessionStart(kind, target, agent, era) {
  const r = await inspector([...target.before, '--protocol-era', era, '--format', 'json', '-q', '--method', 'tools/call',
    '--tool-name', 'session_start', '--tool-args-json', JSON.stringify({ intent: 'inspector' }), ...target.after]);
  check(r.code === 0, `tools/call session_start exited ${r.code} (5 = isError): ${(r.stdout + r.stderr).slice(-1500)}`);
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch (e) {
    throw new Check(`tools/call output is not JSON: ${r.stdout.slice(0, 300)}`);
  }
  const result = out.result ?? out;
  check(result.isError !== true, `session_start isError: ${JSON.stringify(result).slice(0, 500)}`);
  const session = result.structuredContent?.session;
  check(session, `no structuredContent.session: ${JSON.stringify(result).slice(0, 500)}`);
  check(String(session.id).startsWith('ses_'), `no ses_ id: ${JSON.stringify(session)}`);
  check(result.structuredContent.agent === agent, `agent ${result.structuredContent.agent}, expected ${agent}`);
  check(session.intent === 'inspector' && session.status === 'active', `session: ${JSON.stringify(session)}`);
  const text = (result.content ?? []).map((c) => c.text ?? '').join('\n');
  check(text.includes(session.id), `text content does not name the session: ${text}`);
  // The session is really there for other processes.
  const listed = await sb(['sessions']);
  check(listed.includes(session.id.slice(0, 12)) || listed.includes(agent), `\`switchboard sessions\` does not show ${session.id}: ${listed}`);
  return session.id;
}

// HTTP: a token per agent, the URL and the header.
const httpAgent = `insp-http-${RUN_TAG}`;
const token = (await sb(['token', 'create', '--agent', httpAgent])).trim();
check(token.startsWith('sbt_'), 'token create did not print an sbt_ secret');
const http = { before: [opt.url, '--transport', 'http', '--header', `Authorization: Bearer ${token}`], after: [] };
// stdio: the server command after "--", the repository as its working directory.
const stdioAgent = (era) => `insp-stdio-${era}-${RUN_TAG}`;
const stdio = (agent) => ({ before: ['--cwd', opt.repo, '--transport', 'stdio'], after: ['--', opt.bin, 'mcp', '--agent', agent] });

await step('http tools/list --strict', () => toolsListStrict('http', http));
await step('stdio tools/list --strict', () => toolsListStrict('stdio', stdio(stdioAgent('list'))));
await step('http initialize (legacy)', () => negotiated(http, 'legacy', '2025-11-25'));
await step('stdio initialize (legacy)', () => negotiated(stdio(stdioAgent('legacy')), 'legacy', '2025-11-25'));
await step('http tools/call session_start (legacy)', () => sessionStart('http', http, httpAgent, 'legacy'));
await step('stdio tools/call session_start (legacy)', () => sessionStart('stdio', stdio(stdioAgent('legacy')), stdioAgent('legacy'), 'legacy'));
await step('http initialize (modern)', () => negotiated(http, 'modern', '2026-07-28'));
await step('stdio initialize (modern)', () => negotiated(stdio(stdioAgent('modern')), 'modern', '2026-07-28'));
await step('http tools/call session_start (modern)', () => sessionStart('http', http, httpAgent, 'modern'));
await step('stdio tools/call session_start (modern)', () => sessionStart('stdio', stdio(stdioAgent('modern')), stdioAgent('modern'), 'modern'));

console.log(`inspector cli (@modelcontextprotocol/inspector@${INSPECTOR_VERSION}, node ${process.version}) results:`);
for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(40)} ${v}`);
const findingLine = (f) => `${f.severity} ${f.tool} ${f.path}: ${f.issue}`;
let printed = null;
for (const [kind, w] of Object.entries(warningsReport)) {
  console.log(`  schema portability findings (${kind}): ${w.summary}`);
  for (const line of w.lines) console.log(`    ${line}`);
  const all = w.findings.map(findingLine).join('\n');
  if (all && all === printed) console.log('    (the same findings, one by one, as listed above)');
  else if (all) console.log(all.replace(/^/gm, '    '));
  printed = all;
}
process.exit(Object.values(results).every((v) => v.startsWith('PASS')) ? 0 : 1);

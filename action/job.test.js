'use strict';
// A simulated GitHub job, as a user's workflow runs the action: the shim's
// main and post steps with the runner's INPUT_*, GITHUB_* and ACTIONS_*
// variables, on the fixture monorepo (testdata/ghjob/monorepo), its
// dependencies served by a loopback module proxy, ACTIONS_RESULTS_URL
// pointing at the cache-service fake. A second job on a fresh runner, with
// the proxy turned off, must restore the module cache from the fake.
//
// Skipped until the binary has the `run` command.

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { describe, test, before, after } = require('node:test');

const lib = require('./lib');
const { startCacheFake } = require('./testing/cachefake');

const ACTION_DIR = __dirname;
const REPO_ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(REPO_ROOT, 'testdata', 'ghjob', 'monorepo');

// hasRun reports whether this checkout's modhygiene has the run command.
function hasRun(tmp) {
  if (process.platform === 'win32') return false;
  if (childProcess.spawnSync('go', ['version']).status !== 0) return false;
  const bin = path.join(tmp, 'modhygiene-probe');
  const b = childProcess.spawnSync('go', ['build', '-o', bin, './cmd/modhygiene'], { cwd: REPO_ROOT, stdio: 'ignore' });
  if (b.status !== 0) return false;
  const h = childProcess.spawnSync(bin, ['help'], { encoding: 'utf8' });
  return /^\s+run\s/m.test(h.stdout || '');
}

// actionDefaults reads the inputs' defaults from action.yml, as the runner
// passes them: INPUT_<NAME upper-cased> (hyphens kept).
function actionDefaults() {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8');
  const inputs = text.split(/^outputs:/m)[0].split(/^inputs:/m)[1];
  const env = {};
  let name = '';
  for (const line of inputs.split('\n')) {
    const n = line.match(/^ {2}([A-Za-z0-9_-]+):\s*$/);
    if (n) name = n[1];
    const d = line.match(/^ {4}default:\s*(.*)$/);
    // An expression default (the token's) is the runner's to evaluate.
    if (d && name && !d[1].includes('${{')) env[`INPUT_${name.toUpperCase()}`] = d[1].replace(/^'(.*)'$/, '$1');
  }
  return env;
}

// actionOutputs reads the names of the outputs declared in action.yml.
function actionOutputs() {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8');
  const outputs = text.split(/^outputs:/m)[1].split(/^\S/m)[0];
  return new Set([...outputs.matchAll(/^ {2}([A-Za-z0-9_-]+):\s*$/gm)].map((m) => m[1]));
}

// startProxy serves testdata/mod as a module proxy (a Go helper) and
// resolves to {url, stop}.
function startProxy() {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn('go', ['run', './testdata/ghjob/proxy', 'testdata/mod'], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.on('error', reject);
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (url) => {
      resolve({
        url,
        stop: () =>
          new Promise((r) => {
            child.on('exit', () => r());
            child.stdin.end();
          }),
      });
    });
    child.on('exit', (code) => reject(new Error(`proxy exited with ${code}`)));
  });
}

function node(script, env, cwd) {
  return new Promise((resolve) => {
    const child = childProcess.spawn(process.execPath, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// readEnvFile parses a runner environment file (NAME=VALUE or heredoc).
function readEnvFile(file) {
  const out = {};
  if (!fs.existsSync(file)) return out;
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const h = line.match(/^([^=<]+)<<(.+)$/);
    if (h) {
      const value = [];
      i++;
      while (i < lines.length && lines[i] !== h[2]) value.push(lines[i++]);
      out[h[1]] = value.join('\n');
    } else {
      const j = line.indexOf('=');
      out[line.slice(0, j)] = line.slice(j + 1);
    }
  }
  return out;
}

function git(cwd, ...args) {
  const r = childProcess.spawnSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', ...args], { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

// toolCache is the runners' tool cache, shared by the jobs (as on a
// self-hosted runner): the action is built there once, before the jobs,
// with the test's own environment, since the fixture proxy serves only the
// fixtures and not modhygiene's dependencies.
function toolCache(root) {
  return path.join(root, 'toolcache');
}

// runner prepares one job's runner: a workspace with the fixture checked
// out, the runner's directories and files, and its environment.
function runner(root, name, extra) {
  const dir = path.join(root, name);
  const ws = path.join(dir, 'work', 'monorepo', 'monorepo');
  fs.mkdirSync(ws, { recursive: true });
  fs.cpSync(FIXTURE, ws, { recursive: true });
  git(ws, 'init', '-q', '-b', 'main');
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'fixture');
  const sha = git(ws, 'rev-parse', 'HEAD');
  const temp = path.join(dir, 'temp');
  fs.mkdirSync(temp, { recursive: true });
  const event = path.join(temp, 'event.json');
  fs.writeFileSync(event, JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { full_name: 'acme/monorepo', default_branch: 'main' } }));
  const files = {};
  for (const f of ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STATE', 'GITHUB_STEP_SUMMARY']) {
    files[f] = path.join(temp, f.toLowerCase());
    fs.writeFileSync(files[f], '');
  }
  const env = {
    PATH: process.env.PATH,
    HOME: path.join(dir, 'home'),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: ws,
    GITHUB_REPOSITORY: 'acme/monorepo',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: event,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_SHA: sha,
    GITHUB_SERVER_URL: 'http://127.0.0.1:9',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'deps',
    GITHUB_ACTION: 'modhygiene',
    GITHUB_ACTION_PATH: REPO_ROOT,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: temp,
    RUNNER_TOOL_CACHE: toolCache(root),
    GOMODCACHE: path.join(dir, 'gomodcache'),
    XDG_CACHE_HOME: path.join(dir, 'xdg'),
    GOCACHE: childProcess.spawnSync('go', ['env', 'GOCACHE'], { encoding: 'utf8' }).stdout.trim(),
    GOFLAGS: '-mod=mod',
    GONOSUMDB: 'example.com',
    GOTOOLCHAIN: 'local',
    ...files,
    ...actionDefaults(),
    ...extra,
  };
  fs.mkdirSync(env.HOME, { recursive: true });
  return { dir, ws, env, files };
}

// step runs the action's main, then its post with main's state, as the
// runner does.
async function job(r) {
  const main = await node(path.join(ACTION_DIR, 'main.js'), r.env, r.ws);
  const state = {};
  for (const [k, v] of Object.entries(readEnvFile(r.files.GITHUB_STATE))) state[`STATE_${k}`] = v;
  const postState = path.join(path.dirname(r.files.GITHUB_STATE), 'github_state_post');
  fs.writeFileSync(postState, '');
  // Later steps see what main exported to GITHUB_ENV; post sees it too.
  const exported = readEnvFile(r.files.GITHUB_ENV);
  const post = await node(path.join(ACTION_DIR, 'post.js'), { ...r.env, ...exported, ...state, GITHUB_STATE: postState }, r.ws);
  return {
    main,
    post,
    outputs: readEnvFile(r.files.GITHUB_OUTPUT),
    exported,
    summary: fs.readFileSync(r.files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
}

describe('simulated GitHub job', () => {
  let tmp;
  let skip = '';
  let proxy;
  let cache;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-job-'));
    if (!hasRun(tmp)) {
      skip = 'this checkout has no `modhygiene run` yet (or no go)';
      return;
    }
    const ident = lib.actionIdentity({ GITHUB_ACTION_PATH: REPO_ROOT });
    lib.build({ ...process.env, RUNNER_TOOL_CACHE: toolCache(tmp) }, ident, lib.goPlatform());
    proxy = await startProxy();
    cache = await startCacheFake();
  });
  after(async () => {
    if (proxy) await proxy.stop();
    if (cache) await cache.close();
    if (tmp) {
      childProcess.spawnSync('chmod', ['-R', 'u+w', tmp]);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('main then post on the fixture monorepo; a second runner restores the cache', async (t) => {
    if (skip) {
      t.skip(skip);
      return;
    }
    const actionsEnv = {
      ACTIONS_RESULTS_URL: `${cache.url}/`,
      ACTIONS_RUNTIME_TOKEN: cache.token,
      ACTIONS_CACHE_SERVICE_V2: 'true',
      // The test shares the machine's GOCACHE: keep it out of the fake.
      'INPUT_BUILD-CACHE': 'false',
    };

    // First job: cold module cache, modules from the proxy. Only the local
    // proxy is a candidate mirror: nothing leaves the machine.
    const r1 = runner(tmp, 'job1', { ...actionsEnv, GOPROXY: proxy.url, INPUT_MIRRORS: 'current' });
    const j1 = await job(r1);
    const log1 = j1.main.stdout + j1.main.stderr;
    assert.equal(j1.main.code, 1, `main: findings fail the step at fail-on=warning\n${log1}`);
    assert.match(j1.main.stdout, /::error file=services\/worker\/go\.mod,line=\d+/, 'the untidy go.mod is annotated');
    assert.match(log1, /using .* \(built from source src-/, 'a local action runs its source, built in the tool cache');

    for (const stage of ['mirrors', 'restore', 'tidy', 'check']) {
      assert.match(j1.summary, new RegExp(`${stage}[^\\n]*\\d+(\\.\\d+)?\\s*(ms|s|µs)`, 'i'), `the summary times the ${stage} stage\n${j1.summary}`);
    }
    assert.doesNotMatch(j1.summary, /\bvuln\b[^\n]*\d+(\.\d+)?\s*(ms|s)\b/i, 'vuln is off by default');

    assert.ok(Number(j1.outputs.findings) >= 1, `findings output: ${j1.outputs.findings}`);
    assert.match(j1.outputs['untidy-modules'] || '', /services\/worker/);
    assert.doesNotMatch(j1.outputs['untidy-modules'] || '', /services\/api|libs\/util/);
    assert.equal(j1.outputs['cache-hit'], 'false');
    assert.match(j1.outputs.goproxy || '', new RegExp(proxy.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.ok(j1.exported.GOPROXY, 'GOPROXY is exported for later steps');
    const declared = actionOutputs();
    for (const k of Object.keys(j1.outputs)) assert.ok(declared.has(k), `output ${k} is written but not declared in action.yml`);

    assert.equal(j1.post.code, 0, `post\n${j1.post.stdout}${j1.post.stderr}`);
    const saved = cache.finalized();
    assert.ok(saved.length >= 1, 'post saved the module cache');
    assert.ok(saved.every((e) => e.size > 0));

    // Second job on a fresh runner: empty module cache, no proxy at all
    // (and no graph checks, which may ask the proxy about deprecations).
    const r2 = runner(tmp, 'job2', { ...actionsEnv, GOPROXY: 'off', INPUT_MIRRORS: 'off', INPUT_CHECKS: 'off' });
    const j2 = await job(r2);
    const log2 = j2.main.stdout + j2.main.stderr;
    assert.equal(j2.main.code, 1, `the untidy module is still found, offline, from the restored cache\n${log2}`);
    assert.equal(j2.outputs['cache-hit'], 'true', log2);
    assert.match(j2.outputs['untidy-modules'] || '', /services\/worker/);
    assert.ok(fs.existsSync(path.join(r2.env.GOMODCACHE, 'cache', 'download', 'example.com', 'greet', '@v', 'v1.1.0.zip')));
    assert.equal(j2.post.code, 0, j2.post.stdout + j2.post.stderr);
  });
});

'use strict';
// Tests of the action's shim, run with `node --test action/`. A local HTTP
// server plays the release host; a small node script stands in for the
// modhygiene binary where the real `run` is not needed; the fallback test
// really builds this repository with the go command.

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { test, describe, before, after } = require('node:test');

const lib = require('./lib');

const ACTION_DIR = __dirname;
const REPO_ROOT = path.resolve(__dirname, '..');
const plat = lib.goPlatform();
const ASSET = lib.assetName(plat.goos, plat.goarch);
const posix = process.platform !== 'win32';

// standIn is a modhygiene stand-in: it records its arguments and the
// INPUT_* and STATE_* variables it sees in $STANDIN_OUT, and exits with
// $STANDIN_EXIT.
function standIn(version = 'v1.2.3') {
  return Buffer.from(`#!${process.execPath}
const fs = require('fs');
if (process.argv[2] === 'version') {
  process.stdout.write('modhygiene ${version}\\n');
  process.exit(0);
}
const env = {};
for (const [k, v] of Object.entries(process.env)) {
  if (k.startsWith('INPUT_') || k.startsWith('STATE_') || k.startsWith('GITHUB_')) env[k] = v;
}
if (process.env.STANDIN_OUT) {
  fs.appendFileSync(process.env.STANDIN_OUT, JSON.stringify({ args: process.argv.slice(2), env }) + '\\n');
}
process.stdout.write('stand-in ran: ' + process.argv.slice(2).join(' ') + '\\n');
process.exit(Number(process.env.STANDIN_EXIT || 0));
`);
}

function sha256(b) {
  return crypto.createHash('sha256').update(b).digest('hex');
}

// releaseHost serves files by URL path; a value that is a string starting
// with "redirect:" redirects there. It counts requests per path.
function releaseHost(files) {
  const hits = new Map();
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    hits.set(p, (hits.get(p) || 0) + 1);
    const v = files[p];
    if (v === undefined) {
      res.writeHead(404);
      res.end('not found');
    } else if (typeof v === 'string' && v.startsWith('redirect:')) {
      res.writeHead(302, { Location: v.slice('redirect:'.length) });
      res.end();
    } else {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(v);
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, hits, url: `http://127.0.0.1:${server.address().port}` });
    });
  });
}

function tmpdir(t) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-shim-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// node runs a script with node, asynchronously (the release host lives in
// this process), and resolves to {code, stdout, stderr}.
function node(args, env) {
  return new Promise((resolve) => {
    const child = childProcess.spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// baseEnv is a runner-like environment with nothing of the test's own.
function baseEnv(dir, extra) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || dir,
    RUNNER_TOOL_CACHE: path.join(dir, 'toolcache'),
    RUNNER_TEMP: path.join(dir, 'tmp'),
    GITHUB_STATE: path.join(dir, 'state'),
    GITHUB_OUTPUT: path.join(dir, 'output'),
    GITHUB_ENV: path.join(dir, 'env'),
    STANDIN_OUT: path.join(dir, 'standin.jsonl'),
  };
  for (const k of ['GOPATH', 'GOMODCACHE', 'GOCACHE', 'GOPROXY', 'GOFLAGS', 'GONOSUMDB', 'GOTOOLCHAIN', 'XDG_CACHE_HOME', 'TMPDIR']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return { ...env, ...extra };
}

function runs(dir) {
  const f = path.join(dir, 'standin.jsonl');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

// readState parses an environment file as the runner does: NAME=VALUE or
// NAME<<DELIM, value lines, DELIM.
function readEnvFile(file) {
  const out = {};
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = line.match(/^([^=<]+)<<(.+)$/);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value = [];
      i++;
      while (i < lines.length && lines[i] !== delim) value.push(lines[i++]);
      assert.ok(i < lines.length, `no closing delimiter ${delim}`);
      out[name] = value.join('\n');
    } else {
      const j = line.indexOf('=');
      out[line.slice(0, j)] = line.slice(j + 1);
    }
  }
  return out;
}

function stateEnv(file) {
  const env = {};
  for (const [k, v] of Object.entries(readEnvFile(file))) env[`STATE_${k}`] = v;
  return env;
}

describe('helpers', () => {
  test('asset names', () => {
    assert.equal(lib.assetName('linux', 'amd64'), 'modhygiene_linux_amd64');
    assert.equal(lib.assetName('darwin', 'arm64'), 'modhygiene_darwin_arm64');
    assert.equal(lib.assetName('windows', 'amd64'), 'modhygiene_windows_amd64.exe');
    assert.deepEqual(lib.goPlatform('win32', 'x64'), { goos: 'windows', goarch: 'amd64' });
    assert.deepEqual(lib.goPlatform('darwin', 'arm64'), { goos: 'darwin', goarch: 'arm64' });
  });

  test('release tags', () => {
    for (const ref of ['v1.2.3', 'v0.1.0-rc.1', 'v10.0.0']) assert.ok(lib.isReleaseTag(ref), ref);
    for (const ref of ['v1', 'v1.2', 'main', '', 'a'.repeat(40), 'v1.2.3/../x']) assert.ok(!lib.isReleaseTag(ref), ref);
    for (const ref of ['v1', 'v1.2', 'v10']) assert.ok(lib.isMovingTag(ref), ref);
    for (const ref of ['v1.2.3', 'main', '', 'v', '1']) assert.ok(!lib.isMovingTag(ref), ref);
  });

  test('checksums file', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    const sums = lib.parseChecksums(`${a}  modhygiene_linux_amd64\r\n${b} *modhygiene_windows_amd64.exe\n\ngarbage line\n`);
    assert.equal(sums.get('modhygiene_linux_amd64'), a);
    assert.equal(sums.get('modhygiene_windows_amd64.exe'), 'b'.repeat(64));
    assert.equal(sums.size, 2);
  });

  test('action identity from the variables or the runner path', () => {
    const fromEnv = lib.actionIdentity({ GITHUB_ACTION_PATH: '/x', GITHUB_ACTION_REPOSITORY: 'o/r', GITHUB_ACTION_REF: 'v1.0.0' });
    assert.deepEqual(fromEnv, { dir: path.resolve('/x'), repo: 'o/r', ref: 'v1.0.0' });
    const fromPath = lib.actionIdentity({}, '/home/runner/work/_actions/owner/modhygiene/v1.2.3/action');
    assert.equal(fromPath.repo, 'owner/modhygiene');
    assert.equal(fromPath.ref, 'v1.2.3');
    const local = lib.actionIdentity({}, '/home/runner/work/proj/proj/action');
    assert.equal(local.repo, '');
    assert.equal(local.ref, '');
  });

  test('state uses a fresh random delimiter', (t) => {
    const dir = tmpdir(t);
    const file = path.join(dir, 'state');
    lib.saveState({ GITHUB_STATE: file }, 'a', '/p/1');
    lib.saveState({ GITHUB_STATE: file }, 'b', '/p/2');
    const text = fs.readFileSync(file, 'utf8');
    const delims = [...text.matchAll(/<<(ghadelimiter_[0-9a-f-]+)/g)].map((m) => m[1]);
    assert.equal(delims.length, 2);
    assert.notEqual(delims[0], delims[1]);
    assert.deepEqual(readEnvFile(file), { a: '/p/1', b: '/p/2' });
    assert.equal(lib.saveState({}, 'a', 'b'), false);
  });
});

describe('release download', { skip: !posix && 'the stand-in is a script' }, () => {
  const tag = 'v1.2.3';
  const repo = 'acme/modhygiene';
  const good = standIn();
  const latest = standIn('v1.4.2');
  let host;
  before(async () => {
    const prefix = `/${repo}/releases/download/${tag}`;
    host = await releaseHost({
      // The asset redirects to a blob host, as GitHub's release downloads do.
      [`${prefix}/${ASSET}`]: `redirect:/blobs/${ASSET}`,
      [`/blobs/${ASSET}`]: good,
      [`${prefix}/checksums.txt`]: `${'0'.repeat(64)}  modhygiene_plan9_mips\n${sha256(good)}  ${ASSET}\n`,
      // A release whose asset does not match its checksum.
      [`/${repo}/releases/download/v6.6.6/${ASSET}`]: Buffer.concat([good, Buffer.from('// tampered\n')]),
      [`/${repo}/releases/download/v6.6.6/checksums.txt`]: `${sha256(good)}  ${ASSET}\n`,
      // A release whose checksums do not list the asset.
      [`/${repo}/releases/download/v7.0.0/${ASSET}`]: good,
      [`/${repo}/releases/download/v7.0.0/checksums.txt`]: `${sha256(good)}  modhygiene_other\n`,
      // The latest release, for moving tags (v1, v1.4).
      [`/${repo}/releases/latest/download/${ASSET}`]: latest,
      [`/${repo}/releases/latest/download/checksums.txt`]: `${sha256(latest)}  ${ASSET}\n`,
    });
  });
  after(() => host.server.close());

  const actionEnv = (dir, ref, extra = {}) =>
    baseEnv(dir, {
      GITHUB_ACTION_REPOSITORY: repo,
      GITHUB_ACTION_REF: ref,
      // An action directory without source: the fallback build cannot succeed.
      GITHUB_ACTION_PATH: path.join(dir, 'nosource'),
      [lib.RELEASE_BASE_ENV]: host.url,
      ...extra,
    });

  test('main downloads, verifies, runs `run` with the inputs, forwards the exit code; post runs `run --post`', async (t) => {
    const dir = tmpdir(t);
    fs.mkdirSync(path.join(dir, 'nosource'));
    const env = actionEnv(dir, tag, {
      'INPUT_WORKING-DIRECTORY': 'services',
      'INPUT_FAIL-ON': 'error',
      INPUT_TIDY: 'check',
      INPUT_MIRRORS: 'aliyun, default',
      STANDIN_EXIT: '1',
    });
    const before = host.hits.get(`/blobs/${ASSET}`) || 0;
    const m = await node([path.join(ACTION_DIR, 'main.js')], env);
    assert.equal(m.code, 1, m.stdout + m.stderr);
    assert.match(m.stdout, /sha256 verified/);
    assert.match(m.stdout, /stand-in ran: run\n/);
    assert.equal(host.hits.get(`/blobs/${ASSET}`), before + 1);

    const bin = path.join(dir, 'toolcache', 'modhygiene', tag, plat.goarch, 'modhygiene');
    assert.ok(fs.existsSync(bin), 'binary in the tool cache');
    assert.deepEqual(fs.readFileSync(bin), good);

    const [r] = runs(dir);
    assert.deepEqual(r.args, ['run']);
    assert.equal(r.env['INPUT_WORKING-DIRECTORY'], 'services');
    assert.equal(r.env['INPUT_FAIL-ON'], 'error');
    assert.equal(r.env.INPUT_TIDY, 'check');
    assert.equal(r.env.INPUT_MIRRORS, 'aliyun, default');
    assert.equal(r.env.GITHUB_ACTION_REF, tag);
    assert.equal(r.env.GITHUB_STATE, env.GITHUB_STATE, 'the binary can write its own state');

    // The runner hands main's state to post as STATE_*.
    const state = stateEnv(env.GITHUB_STATE);
    assert.equal(state[`STATE_${lib.STATE_NAME}`], bin);
    const p = await node([path.join(ACTION_DIR, 'post.js')], { ...env, ...state, STANDIN_EXIT: '0', GITHUB_STATE: '' });
    assert.equal(p.code, 0, p.stdout + p.stderr);
    const second = runs(dir)[1];
    assert.deepEqual(second.args, ['run', '--post']);
    assert.equal(second.env['INPUT_FAIL-ON'], 'error');
    assert.equal(second.env[`STATE_${lib.STATE_NAME}`], bin);

    // A second job on the same runner finds the binary in the tool cache.
    const again = await node([path.join(ACTION_DIR, 'main.js')], { ...env, STANDIN_EXIT: '0' });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /using .* \(release v1\.2\.3\)/);
    assert.equal(host.hits.get(`/blobs/${ASSET}`), before + 1, 'no second download');
  });

  for (const [ref, why] of [
    ['v6.6.6', /does not match checksums\.txt/],
    ['v7.0.0', /has no entry for/],
  ]) {
    test(`an asset that fails verification is refused (${ref})`, async (t) => {
      const dir = tmpdir(t);
      fs.mkdirSync(path.join(dir, 'nosource'));
      const env = actionEnv(dir, ref);
      const m = await node([path.join(ACTION_DIR, 'main.js')], env);
      assert.equal(m.code, 3, m.stdout + m.stderr);
      assert.match(m.stdout, /::warning::/);
      assert.match(m.stdout, why);
      assert.match(m.stdout, /::error::modhygiene: cannot obtain the binary: no go\.mod/);
      assert.deepEqual(runs(dir), [], 'the refused binary never ran');
      assert.ok(!fs.existsSync(path.join(dir, 'toolcache', 'modhygiene', ref)), 'nothing installed');
      assert.equal(fs.existsSync(env.GITHUB_STATE) ? fs.readFileSync(env.GITHUB_STATE, 'utf8') : '', '');
    });
  }

  test('a moving tag (v1) runs the latest release when it is a v1 release', async (t) => {
    const dir = tmpdir(t);
    fs.mkdirSync(path.join(dir, 'nosource'));
    const m = await node([path.join(ACTION_DIR, 'main.js')], actionEnv(dir, 'v1'));
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.match(m.stdout, /downloaded release v1\.4\.2 for v1 .*sha256 verified/);
    assert.deepEqual(runs(dir).map((r) => r.args), [['run']]);
    assert.ok(fs.existsSync(path.join(dir, 'toolcache', 'modhygiene', 'v1.4.2', `${plat.goarch}.complete`)));
  });

  test('a moving tag never runs a release of another major version', async (t) => {
    const dir = tmpdir(t);
    fs.mkdirSync(path.join(dir, 'nosource'));
    for (const ref of ['v2', 'v1.3']) {
      const m = await node([path.join(ACTION_DIR, 'main.js')], actionEnv(dir, ref));
      assert.equal(m.code, 3, m.stdout + m.stderr);
      assert.match(m.stdout, new RegExp(`the latest release \\(v1\\.4\\.2\\) is not a ${ref.replace('.', '\\.')} release`));
    }
    assert.deepEqual(runs(dir), [], 'the other release never ran the job');
    assert.ok(!fs.existsSync(path.join(dir, 'toolcache', 'modhygiene', 'v1.4.2')), 'nothing installed');
  });

  test('a missing release falls back to building the source', async (t) => {
    const dir = tmpdir(t);
    fs.mkdirSync(path.join(dir, 'nosource'));
    const m = await node([path.join(ACTION_DIR, 'main.js')], actionEnv(dir, 'v9.9.9'));
    assert.equal(m.code, 3);
    assert.match(m.stdout, /no release binary \(GET .*: 404/);
    assert.match(m.stdout, /building from the action's source/);
  });

  test('post without state does nothing', async (t) => {
    const dir = tmpdir(t);
    const p = await node([path.join(ACTION_DIR, 'post.js')], baseEnv(dir, {}));
    assert.equal(p.code, 0);
    assert.match(p.stdout, /did not obtain the binary/);
    assert.deepEqual(runs(dir), []);
  });
});

describe('fallback build', () => {
  let go = true;
  before(() => {
    go = childProcess.spawnSync('go', ['version']).status === 0;
  });

  test('builds the action source with go into the tool cache and runs it', async (t) => {
    if (!go) {
      t.skip('go is not on PATH');
      return;
    }
    const dir = tmpdir(t);
    let host;
    host = await releaseHost({});
    t.after(() => host.server.close());
    const script = `require(${JSON.stringify(path.join(ACTION_DIR, 'lib.js'))}).main(['version']).then((c) => { process.exitCode = c; });`;
    // A local action (uses: ./): no repository, no ref.
    const env = baseEnv(dir, { GITHUB_ACTION_PATH: REPO_ROOT, [lib.RELEASE_BASE_ENV]: host.url });
    const m = await node(['-e', script], env);
    assert.equal(m.code, 0, m.stdout + m.stderr);
    const key = (m.stdout.match(/building from source (src-[0-9a-f]{16})/) || [])[1];
    assert.ok(key, m.stdout);
    assert.match(m.stdout, new RegExp(`^modhygiene devel-${key}$`, 'm'));
    const bin = path.join(dir, 'toolcache', 'modhygiene', key, plat.goarch, posix ? 'modhygiene' : 'modhygiene.exe');
    assert.ok(fs.existsSync(bin), `${bin} exists`);
    assert.equal(stateEnv(env.GITHUB_STATE)[`STATE_${lib.STATE_NAME}`], bin);
    assert.equal(host.hits.size, 0, 'a local action has no release to download');

    // The next run on this runner reuses the build.
    const again = await node(['-e', script], env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /using .* \(built from source src-/);
    assert.doesNotMatch(again.stdout, /building/);

    // Pinned by commit: the build is keyed by the commit and stamped "devel".
    const sha = 'c0ffee'.padEnd(40, '0');
    const pinned = baseEnv(dir, {
      GITHUB_ACTION_PATH: REPO_ROOT,
      GITHUB_ACTION_REPOSITORY: 'acme/modhygiene',
      GITHUB_ACTION_REF: sha,
      [lib.RELEASE_BASE_ENV]: host.url,
    });
    const p = await node(['-e', script], pinned);
    assert.equal(p.code, 0, p.stdout + p.stderr);
    assert.match(p.stdout, new RegExp(`building from source ${sha}`));
    assert.ok(fs.existsSync(path.join(dir, 'toolcache', 'modhygiene', sha, `${plat.goarch}.complete`)));
    assert.equal(host.hits.size, 0, 'a commit has no release to download');
  });

  test('a release tag whose assets are missing builds with the tag stamped', async (t) => {
    if (!go) {
      t.skip('go is not on PATH');
      return;
    }
    const dir = tmpdir(t);
    const host = await releaseHost({});
    t.after(() => host.server.close());
    const script = `require(${JSON.stringify(path.join(ACTION_DIR, 'lib.js'))}).main(['version']).then((c) => { process.exitCode = c; });`;
    const env = baseEnv(dir, {
      GITHUB_ACTION_PATH: REPO_ROOT,
      GITHUB_ACTION_REPOSITORY: 'acme/modhygiene',
      GITHUB_ACTION_REF: 'v0.0.1',
      [lib.RELEASE_BASE_ENV]: host.url,
    });
    const m = await node(['-e', script], env);
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.match(m.stdout, /^modhygiene v0\.0\.1$/m);
    assert.ok(host.hits.get(`/acme/modhygiene/releases/download/v0.0.1/${ASSET}`) >= 1);
  });
});

test('the shim uses node built-ins only (no npm dependencies)', () => {
  const { builtinModules } = require('node:module');
  const files = ['lib.js', 'main.js', 'post.js'];
  for (const f of files) {
    const src = fs.readFileSync(path.join(ACTION_DIR, f), 'utf8');
    for (const [, spec] of src.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const name = spec.replace(/^node:/, '');
      assert.ok(spec.startsWith('./') || builtinModules.includes(name), `${f} requires ${spec}`);
    }
    assert.doesNotMatch(src, /^\s*import\s/m, `${f} is CommonJS`);
  }
  assert.ok(!fs.existsSync(path.join(ACTION_DIR, 'node_modules')));
  assert.ok(!fs.existsSync(path.join(ACTION_DIR, 'package.json')) || !JSON.parse(fs.readFileSync(path.join(ACTION_DIR, 'package.json'))).dependencies);
});

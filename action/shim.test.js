'use strict';
// Tests of the action's shim, run with `node --test action/`. A fake of
// GitHub (action/testing/githubfake.js) serves the API, the release pages
// and the downloads; a small node script stands in for the modhygiene binary
// where the real `run` is not needed; the fallback test really builds this
// repository with the go command.

const assert = require('node:assert/strict');
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, describe, before, after } = require('node:test');

const lib = require('./lib');
const { startGitHubFake } = require('./testing/githubfake');

const ACTION_DIR = __dirname;
const REPO_ROOT = path.resolve(__dirname, '..');
const plat = lib.goPlatform();
const ASSET = lib.assetName(plat.goos, plat.goarch);
const posix = process.platform !== 'win32';
const REPO = 'acme/modhygiene';
const TOKEN = 'ghs_faketoken';

// standIn is a modhygiene stand-in: it records its arguments and the
// INPUT_*, STATE_* and GITHUB_* variables it sees in $STANDIN_OUT, and exits
// with $STANDIN_EXIT. Its version line says which release it is.
function standIn(version) {
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
  fs.appendFileSync(process.env.STANDIN_OUT, JSON.stringify({ version: '${version}', args: process.argv.slice(2), env }) + '\\n');
}
process.stdout.write('stand-in ${version} ran: ' + process.argv.slice(2).join(' ') + '\\n');
process.exit(Number(process.env.STANDIN_EXIT || 0));
`);
}

function sha256(b) {
  return crypto.createHash('sha256').update(b).digest('hex');
}

// rel is a well-formed release: the stand-in as this platform's asset, and
// a checksums.txt that lists it among others.
function rel(version, extra = {}) {
  const bin = standIn(version);
  return {
    assets: {
      [ASSET]: bin,
      'checksums.txt': `${'0'.repeat(64)}  modhygiene_plan9_mips\n${sha256(bin)}  ${ASSET}\n`,
    },
    ...extra,
  };
}

const SHA_V142 = 'a'.repeat(40);
const SHA_TAMPERED = 'b'.repeat(40);
const SHA_UNTAGGED = 'c'.repeat(40);

// releases and tags of the fake: v1.4.2 is the newest v1, v2.0.0 the
// newest release, v2.1.0-rc.1 a pre-release; v6.6.6 has a tampered asset,
// v7.0.0 a checksums.txt without it, v8.0.0 no checksums.txt, v9.0.0 no
// asset for this platform.
function fixtures() {
  const good = standIn('v6.6.6');
  const releases = {
    'v1.2.3': rel('v1.2.3'),
    'v1.4.2': rel('v1.4.2'),
    'v2.0.0': rel('v2.0.0'),
    'v2.1.0-rc.1': rel('v2.1.0-rc.1', { prerelease: true }),
    'v6.6.6': { assets: { [ASSET]: Buffer.concat([good, Buffer.from('// tampered\n')]), 'checksums.txt': `${sha256(good)}  ${ASSET}\n` }, draft: true },
    'v7.0.0': { assets: { [ASSET]: good, 'checksums.txt': `${sha256(good)}  modhygiene_other\n` }, draft: true },
    'v8.0.0': { assets: { [ASSET]: good }, draft: true },
    'v9.0.0': { assets: { 'checksums.txt': `${sha256(good)}  modhygiene_other\n` }, draft: true },
  };
  // 150 tags, so that the ones that matter are on the second page.
  const tags = [];
  for (let i = 0; i < 150; i++) tags.push({ name: `v0.0.${i}`, sha: crypto.createHash('sha1').update(String(i)).digest('hex') });
  tags.push({ name: 'v1', sha: SHA_V142 }, { name: 'v1.4', sha: SHA_V142 }, { name: 'v1.4.2', sha: SHA_V142 });
  tags.push({ name: 'v6.6.6', sha: SHA_TAMPERED });
  return { releases, tags };
}

function tmpdir(t) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mh-shim-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// node runs a script with node, asynchronously (the fake lives in this
// process), and resolves to {code, stdout, stderr, ms}.
function node(args, env) {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = childProcess.spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - start }));
  });
}

// baseEnv is a runner-like environment with nothing of the test's own. PATH
// is an empty directory: the go command cannot be found, so a step that
// passes did not compile anything.
function baseEnv(dir, extra) {
  const files = {};
  for (const f of ['GITHUB_STATE', 'GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH']) files[f] = path.join(dir, f.toLowerCase());
  fs.mkdirSync(path.join(dir, 'emptypath'), { recursive: true });
  const env = {
    PATH: path.join(dir, 'emptypath'),
    HOME: dir,
    RUNNER_TOOL_CACHE: path.join(dir, 'toolcache'),
    RUNNER_TEMP: path.join(dir, 'tmp'),
    STANDIN_OUT: path.join(dir, 'standin.jsonl'),
    ...files,
  };
  return { ...env, ...extra };
}

function runs(dir) {
  const f = path.join(dir, 'standin.jsonl');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

// readEnvFile parses an environment file as the runner does: NAME=VALUE or
// NAME<<DELIM, value lines, DELIM.
function readEnvFile(file) {
  const out = {};
  if (!fs.existsSync(file)) return out;
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

  test('release tags and their order', () => {
    for (const ref of ['v1.2.3', 'v0.1.0-rc.1', 'v10.0.0']) assert.ok(lib.isReleaseTag(ref), ref);
    for (const ref of ['v1', 'v1.2', 'main', '', 'a'.repeat(40), 'v1.2.3/../x']) assert.ok(!lib.isReleaseTag(ref), ref);
    for (const ref of ['v1', 'v1.2', 'v10']) assert.ok(lib.isMovingTag(ref), ref);
    for (const ref of ['v1.2.3', 'main', '', 'v', '1']) assert.ok(!lib.isMovingTag(ref), ref);
    const sorted = ['v1.10.0', 'v1.2.0', 'v1.2.0-rc.1', 'v2.0.0', 'v1.9.9'].sort(lib.compareVersions);
    assert.deepEqual(sorted, ['v1.2.0-rc.1', 'v1.2.0', 'v1.9.9', 'v1.10.0', 'v2.0.0']);
  });

  test('checksums file', () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    const sums = lib.parseChecksums(`${a}  modhygiene_linux_amd64\r\n${b} *modhygiene_windows_amd64.exe\n\ngarbage line\n`);
    assert.equal(sums.get('modhygiene_linux_amd64'), a);
    assert.equal(sums.get('modhygiene_windows_amd64.exe'), 'b'.repeat(64));
    assert.equal(sums.size, 2);
  });

  test('args are split as words, never through a shell', () => {
    const cases = [
      ['', []],
      ['  ', []],
      ['--vuln', ['--vuln']],
      ['--baseline base.json  --json\tout.json\n--fail-on=error', ['--baseline', 'base.json', '--json', 'out.json', '--fail-on=error']],
      [`--json 'out dir/run.json'`, ['--json', 'out dir/run.json']],
      [`--x "a \\"b\\" \\$HOME"`, ['--x', 'a "b" $HOME']],
      [`--x 'it''s'`, ['--x', 'its']],
      [`$(touch pwned) \`id\` $HOME ~ *.go`, ['$(touch', 'pwned)', '`id`', '$HOME', '~', '*.go']],
      [`a\\ b c\\\nd`, ['a b', 'cd']],
      [`""`, ['']],
      [`--x=""`, ['--x=']],
    ];
    for (const [s, want] of cases) assert.deepEqual(lib.splitArgs(s), want, s);
    assert.throws(() => lib.splitArgs(`--json 'out`), /unterminated single quote/);
    assert.throws(() => lib.splitArgs(`--json "out`), /unterminated double quote/);
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
  let gh;
  before(async () => {
    gh = await startGitHubFake({ repo: REPO, token: TOKEN, ...fixtures() });
  });
  after(() => gh.close());

  const actionEnv = (dir, ref, extra = {}) =>
    baseEnv(dir, {
      GITHUB_ACTION_REPOSITORY: REPO,
      GITHUB_ACTION_REF: ref,
      // An action directory without source: a fallback build cannot succeed.
      GITHUB_ACTION_PATH: path.join(dir, 'nosource'),
      GITHUB_SERVER_URL: gh.url,
      GITHUB_API_URL: gh.api,
      INPUT_TOKEN: TOKEN,
      ...extra,
    });
  const since = (n) => gh.requests.slice(n);
  const mainStep = (env) => node([path.join(ACTION_DIR, 'main.js')], env);
  const postStep = (env) => node([path.join(ACTION_DIR, 'post.js')], env);

  test('a SHA ref runs the release whose tag points at it, verified, without compiling', async (t) => {
    const dir = tmpdir(t);
    const n = gh.requests.length;
    const env = actionEnv(dir, SHA_V142, {
      'INPUT_WORKING-DIRECTORY': 'services',
      'INPUT_FAIL-ON': 'error',
      'INPUT_ONLY-NEW-ISSUES': 'true',
      INPUT_CACHE: 'false',
      INPUT_ARGS: `--baseline base.json --json 'out dir/run.json'`,
      STANDIN_EXIT: '1',
    });
    const m = await mainStep(env);
    t.diagnostic(`main step with a SHA ref: ${m.ms} ms (API lookup, download, verification, run)`);
    assert.equal(m.code, 1, m.stdout + m.stderr);
    assert.match(m.stdout, /downloaded release v1\.4\.2 \(release v1\.4\.2, which points at the action's commit a{12}\).*sha256 verified/);
    assert.doesNotMatch(m.stdout, /::warning::|building/);
    assert.match(m.stdout, /stand-in v1\.4\.2 ran: run --baseline base\.json --json out dir\/run\.json\n/);

    const reqs = since(n);
    assert.ok(reqs.some((r) => r.path.includes('/tags') && r.path.includes('page=2')), 'the tags were paged');
    for (const r of reqs) {
      const api = r.path.startsWith('/api/');
      assert.equal(r.auth, api ? `Bearer ${TOKEN}` : '', `${r.host}${r.path}: the token goes to the API only`);
    }
    assert.ok(reqs.some((r) => r.host === 'blob'), 'the asset came from the blob host');

    const bin = path.join(dir, 'toolcache', 'modhygiene', 'v1.4.2', plat.goarch, 'modhygiene');
    const [r] = runs(dir);
    assert.equal(r.version, 'v1.4.2');
    assert.deepEqual(r.args, ['run', '--baseline', 'base.json', '--json', 'out dir/run.json']);
    assert.equal(r.env['INPUT_WORKING-DIRECTORY'], 'services');
    assert.equal(r.env['INPUT_ONLY-NEW-ISSUES'], 'true', 'the binary reads only-new-issues itself');
    assert.equal(r.env.INPUT_CACHE, 'false', 'and cache');
    assert.equal(r.env.GITHUB_STATE, env.GITHUB_STATE, 'the binary can write its own state');

    // The runner hands main's state to post as STATE_*; post passes the args on.
    const state = stateEnv(env.GITHUB_STATE);
    assert.equal(state[`STATE_${lib.STATE_NAME}`], bin);
    const p = await postStep({ ...env, ...state, STANDIN_EXIT: '0', GITHUB_STATE: path.join(dir, 'poststate') });
    assert.equal(p.code, 0, p.stdout + p.stderr);
    assert.deepEqual(runs(dir)[1].args, ['run', '--post', '--baseline', 'base.json', '--json', 'out dir/run.json']);

    // A second job on the same runner asks nobody: the commit's tag is
    // remembered and the binary is in the tool cache.
    const k = gh.requests.length;
    const again = await mainStep({ ...env, STANDIN_EXIT: '0' });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /using .* \(release v1\.4\.2;/);
    assert.deepEqual(since(k), [], 'no request at all');
  });

  test('a tampered asset fails the step: never run, never replaced by a build', async (t) => {
    const dir = tmpdir(t);
    fs.mkdirSync(path.join(dir, 'nosource'));
    fs.writeFileSync(path.join(dir, 'nosource', 'go.mod'), 'module example.com/x\n');
    const m = await mainStep(actionEnv(dir, SHA_TAMPERED));
    assert.equal(m.code, 3, m.stdout + m.stderr);
    assert.match(m.stdout, /::error::modhygiene: cannot obtain the binary: modhygiene_\w+ of acme\/modhygiene@v6\.6\.6: sha256 [0-9a-f]{64} does not match checksums\.txt/);
    assert.doesNotMatch(m.stdout, /building|::warning::/);
    assert.deepEqual(runs(dir), [], 'the refused binary never ran');
    assert.ok(!fs.existsSync(path.join(dir, 'toolcache', 'modhygiene', 'v6.6.6', plat.goarch)), 'nothing installed');
    const left = fs.readdirSync(path.join(dir, 'toolcache', 'modhygiene', 'v6.6.6'));
    assert.deepEqual(left, [], 'no partial download left behind');
    assert.deepEqual(readEnvFile(path.join(dir, 'github_state')), {}, 'no state: post does nothing');
  });

  for (const [version, why] of [
    ['v7.0.0', /checksums\.txt of acme\/modhygiene@v7\.0\.0 has no entry for/],
    ['v8.0.0', /cannot read checksums\.txt of acme\/modhygiene@v8\.0\.0 \(GET .*: 404/],
  ]) {
    test(`an asset that cannot be verified fails the step (${version})`, async (t) => {
      const dir = tmpdir(t);
      const m = await mainStep(actionEnv(dir, 'main', { INPUT_VERSION: version }));
      assert.equal(m.code, 3, m.stdout + m.stderr);
      assert.match(m.stdout, why);
      assert.deepEqual(runs(dir), []);
    });
  }

  test('a release tag ref needs no API call', async (t) => {
    const dir = tmpdir(t);
    const n = gh.requests.length;
    const m = await mainStep(actionEnv(dir, 'v1.2.3'));
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.match(m.stdout, /downloaded release v1\.2\.3 \(the action's ref v1\.2\.3\)/);
    assert.deepEqual(since(n).filter((r) => r.path.startsWith('/api/')), []);
    assert.equal(runs(dir)[0].version, 'v1.2.3');
  });

  test('a moving tag runs the newest release of its line, never another major or a pre-release', async (t) => {
    for (const [ref, want] of [['v1', 'v1.4.2'], ['v1.2', 'v1.2.3'], ['v2', 'v2.0.0']]) {
      const dir = tmpdir(t);
      const m = await mainStep(actionEnv(dir, ref));
      assert.equal(m.code, 0, m.stdout + m.stderr);
      assert.match(m.stdout, new RegExp(`downloaded release ${want.replace(/\./g, '\\.')} \\(the newest ${ref.replace('.', '\\.')} release\\)`));
      assert.equal(runs(dir)[0].version, want);
    }
  });

  test('a moving tag when the API refuses: the latest release if the tag covers it, else a build', async (t) => {
    const dir = tmpdir(t);
    gh.failAPI = 1;
    const m = await mainStep(actionEnv(dir, 'v2'));
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.equal(runs(dir)[0].version, 'v2.0.0', 'the latest release, found through the release page');

    const dir2 = tmpdir(t);
    gh.failAPI = 1;
    const m2 = await mainStep(actionEnv(dir2, 'v1'));
    assert.equal(m2.code, 3);
    assert.match(m2.stdout, /::warning::modhygiene: no release binary \(cannot ask the GitHub API about acme\/modhygiene@v1: GET .*403.*\); building the action's source with go, which takes about 3 to 5 minutes/);
    assert.deepEqual(runs(dir2), []);
    gh.failAPI = 0;
  });

  test('the version input chooses the release apart from the ref', async (t) => {
    for (const [version, ref, want] of [
      ['v1.2.3', 'main', 'v1.2.3'],
      ['1.2.3', SHA_UNTAGGED, 'v1.2.3'],
      ['latest', 'v1.2.3', 'v2.0.0'],
      ['v1', 'v2', 'v1.4.2'],
    ]) {
      const dir = tmpdir(t);
      const m = await mainStep(actionEnv(dir, ref, { INPUT_VERSION: version }));
      assert.equal(m.code, 0, `${version}@${ref}: ${m.stdout}${m.stderr}`);
      assert.match(m.stdout, new RegExp(`\\(version: ${version}\\)`));
      assert.equal(runs(dir)[0].version, want, `version ${version}`);
    }
  });

  test('a version input that names no release that can be had is a usage error', async (t) => {
    for (const [version, why] of [
      ['banana', /version: "banana": want a release \(v1\.2\.3\), a release line \(v1, v1\.2\) or latest/],
      ['v5', /version: v5: acme\/modhygiene has no such release/],
      ['v9.0.0', /version: release v9\.0\.0 has no modhygiene_/],
    ]) {
      const dir = tmpdir(t);
      const m = await mainStep(actionEnv(dir, 'v1.2.3', { INPUT_VERSION: version }));
      assert.equal(m.code, 2, m.stdout + m.stderr);
      assert.match(m.stdout, why);
      assert.doesNotMatch(m.stdout, /building/);
      assert.deepEqual(runs(dir), []);
    }
  });

  test('no release for the ref: a warning that says what the build costs', async (t) => {
    for (const [ref, why] of [
      [SHA_UNTAGGED, /no release tag of acme\/modhygiene points at commit c{40}/],
      ['main', /the action's ref main is neither a release tag nor a commit that one points at/],
    ]) {
      const dir = tmpdir(t);
      const m = await mainStep(actionEnv(dir, ref));
      assert.equal(m.code, 3, m.stdout + m.stderr);
      assert.match(m.stdout, /::warning::modhygiene: no release binary \(/);
      assert.match(m.stdout, why);
      assert.match(m.stdout, /takes about 3 to 5 minutes/);
      assert.match(m.stdout, /::error::modhygiene: cannot obtain the binary: no go\.mod/, 'the build was tried');
    }
  });

  test('install-only puts modhygiene on PATH and runs nothing', async (t) => {
    const dir = tmpdir(t);
    const env = actionEnv(dir, 'v1.2.3', { 'INPUT_INSTALL-ONLY': 'true' });
    const m = await mainStep(env);
    assert.equal(m.code, 0, m.stdout + m.stderr);
    const dirs = fs.readFileSync(env.GITHUB_PATH, 'utf8').trim().split('\n');
    assert.deepEqual(dirs, [path.join(dir, 'toolcache', 'modhygiene', 'v1.2.3', plat.goarch)]);
    assert.ok(fs.existsSync(path.join(dirs[0], 'modhygiene')));
    assert.deepEqual(runs(dir), [], 'nothing ran');
    assert.deepEqual(readEnvFile(env.GITHUB_STATE), {}, 'no state: the post step does nothing');
    const p = await postStep(env);
    assert.equal(p.code, 0);
    assert.deepEqual(runs(dir), []);
  });

  test('skip-save-cache: the post step does nothing', async (t) => {
    const dir = tmpdir(t);
    const env = actionEnv(dir, 'v1.2.3', { 'INPUT_SKIP-SAVE-CACHE': 'true' });
    const m = await mainStep(env);
    assert.equal(m.code, 0, m.stdout + m.stderr);
    const p = await postStep({ ...env, ...stateEnv(env.GITHUB_STATE) });
    assert.equal(p.code, 0);
    assert.match(p.stdout, /skip-save-cache is true; nothing to save/);
    assert.deepEqual(runs(dir).map((r) => r.args), [['run']]);
  });

  test('bad inputs fail the step before anything is fetched', async (t) => {
    for (const [extra, why] of [
      [{ INPUT_ARGS: `--json 'x` }, /args: unterminated single quote/],
      [{ 'INPUT_INSTALL-ONLY': 'yes' }, /install-only: "yes" is not a boolean/],
    ]) {
      const dir = tmpdir(t);
      const n = gh.requests.length;
      const m = await mainStep(actionEnv(dir, 'v1.2.3', extra));
      assert.equal(m.code, 2, m.stdout + m.stderr);
      assert.match(m.stdout, why);
      assert.deepEqual(since(n), []);
    }
  });

  test('post without state does nothing', async (t) => {
    const dir = tmpdir(t);
    const p = await postStep(baseEnv(dir, {}));
    assert.equal(p.code, 0);
    assert.match(p.stdout, /did not run the binary/);
    assert.deepEqual(runs(dir), []);
  });
});

describe('fallback build', () => {
  let go = true;
  before(() => {
    go = childProcess.spawnSync('go', ['version']).status === 0;
  });

  // goEnv is a runner environment in which go works (the test's own PATH
  // and caches), so that the fallback build can run.
  const goEnv = (dir, extra) => {
    const env = baseEnv(dir, { PATH: process.env.PATH, HOME: process.env.HOME || dir, ...extra });
    for (const k of ['GOPATH', 'GOMODCACHE', 'GOCACHE', 'GOPROXY', 'GOFLAGS', 'GONOSUMDB', 'GOTOOLCHAIN', 'XDG_CACHE_HOME', 'TMPDIR']) {
      if (process.env[k] !== undefined) env[k] = process.env[k];
    }
    env.GOTELEMETRY = 'off';
    return env;
  };

  test('builds the action source with go into the tool cache and runs it', async (t) => {
    if (!go) {
      t.skip('go is not on PATH');
      return;
    }
    const dir = tmpdir(t);
    const gh = await startGitHubFake({ repo: REPO });
    t.after(() => gh.close());
    const script = `require(${JSON.stringify(path.join(ACTION_DIR, 'lib.js'))}).main(['version']).then((c) => { process.exitCode = c; });`;
    // A local action (uses: ./): no repository, no ref.
    const env = goEnv(dir, { GITHUB_ACTION_PATH: REPO_ROOT, GITHUB_SERVER_URL: gh.url, GITHUB_API_URL: gh.api });
    const m = await node(['-e', script], env);
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.match(m.stdout, /::warning::modhygiene: no release binary \(a local action \(uses: \.\/\) has no release\)/);
    const key = (m.stdout.match(/building from source (src-[0-9a-f]{16})/) || [])[1];
    assert.ok(key, m.stdout);
    assert.match(m.stdout, new RegExp(`^modhygiene devel-${key}$`, 'm'));
    const bin = path.join(dir, 'toolcache', 'modhygiene', key, plat.goarch, posix ? 'modhygiene' : 'modhygiene.exe');
    assert.ok(fs.existsSync(bin), `${bin} exists`);
    assert.equal(stateEnv(env.GITHUB_STATE)[`STATE_${lib.STATE_NAME}`], bin);
    assert.deepEqual(gh.requests, [], 'a local action has no release to ask about');

    // The next run on this runner reuses the build, without a warning.
    const again = await node(['-e', script], env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /using .* \(built from source src-/);
    assert.doesNotMatch(again.stdout, /building|::warning::/);

    // Pinned by a commit no release tag points at: the build is keyed by
    // the commit and stamped "devel".
    const sha = 'c0ffee'.padEnd(40, '0');
    const pinned = goEnv(dir, { GITHUB_ACTION_PATH: REPO_ROOT, GITHUB_ACTION_REPOSITORY: REPO, GITHUB_ACTION_REF: sha, GITHUB_SERVER_URL: gh.url, GITHUB_API_URL: gh.api });
    const p = await node(['-e', script], pinned);
    assert.equal(p.code, 0, p.stdout + p.stderr);
    assert.match(p.stdout, /no release tag of acme\/modhygiene points at commit c0ffee/);
    assert.match(p.stdout, new RegExp(`building from source ${sha}`));
    assert.ok(fs.existsSync(path.join(dir, 'toolcache', 'modhygiene', sha, `${plat.goarch}.complete`)));
  });
});

test('the shim uses node built-ins only (no npm dependencies)', () => {
  const { builtinModules } = require('node:module');
  const files = fs.readdirSync(ACTION_DIR).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'));
  assert.ok(files.includes('lib.js') && files.includes('release.js'), files.join(' '));
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

'use strict';
// The modhygiene action's shim: obtain the modhygiene binary, then exec it.
//
// The binary comes from the release asset for the action's version
// (modhygiene_<os>_<arch>[.exe], verified against the release's
// checksums.txt; for a moving tag such as v1, the latest release if it is a
// v1 release) and, failing that, from `go build` of the action's own source
// (keyed by the commit when the action is pinned by SHA, else by a hash of
// its Go sources). Either way it is kept in
// RUNNER_TOOL_CACHE/modhygiene/<version or commit>/<arch>/ so that later
// steps and jobs on the same runner reuse it. A checksum mismatch is never
// run: the shim warns and builds from source instead.
//
// Only node's built-in modules are used: no npm dependencies.

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const os = require('os');
const path = require('path');

const TOOL = 'modhygiene';
const MODULE = 'github.com/modhygiene/modhygiene';
// RELEASE_BASE_ENV overrides the host that serves releases (default:
// GITHUB_SERVER_URL). Tests point it at a local server.
const RELEASE_BASE_ENV = 'MODHYGIENE_RELEASE_BASE_URL';
// STATE_NAME is the name under which main hands the binary's path to post.
const STATE_NAME = 'modhygiene_binary';
const MAX_REDIRECTS = 5;
const MAX_ASSET_BYTES = 512 << 20;
const DOWNLOAD_TIMEOUT_MS = 120000;

const GOOS = { linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd' };
const GOARCH = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

// goPlatform returns the GOOS and GOARCH of this runner.
function goPlatform(platform = process.platform, arch = process.arch) {
  return { goos: GOOS[platform] || platform, goarch: GOARCH[arch] || arch };
}

// assetName is the release asset for a platform: modhygiene_<os>_<arch>[.exe].
function assetName(goos, goarch) {
  return `${TOOL}_${goos}_${goarch}${goos === 'windows' ? '.exe' : ''}`;
}

function exeName(goos) {
  return goos === 'windows' ? `${TOOL}.exe` : TOOL;
}

// actionIdentity says which action is running: its directory, its
// repository (owner/name, empty for `uses: ./`) and its ref (a tag, a
// branch or a commit SHA; empty for a local action).
function actionIdentity(env, dirname = __dirname) {
  const dir = path.resolve(env.GITHUB_ACTION_PATH || path.join(dirname, '..'));
  let repo = env.GITHUB_ACTION_REPOSITORY || '';
  let ref = env.GITHUB_ACTION_REF || '';
  if (!repo) {
    // The runner keeps downloaded actions in _actions/<owner>/<repo>/<ref>;
    // use that where the variables are missing (seen in container jobs).
    const m = dir.split(path.sep).join('/').match(/\/_actions\/([^/]+)\/([^/]+)\/([^/]+)$/);
    if (m) {
      repo = `${m[1]}/${m[2]}`;
      ref = ref || m[3];
    }
  }
  return { dir, repo, ref };
}

// isReleaseTag reports whether ref names a release: vMAJOR.MINOR.PATCH with
// an optional pre-release suffix. A major tag (v1), a branch or a commit
// SHA has no release assets of its own.
function isReleaseTag(ref) {
  return /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(ref);
}

// isMovingTag reports whether ref is a major or minor tag (v1, v1.2) that
// the release workflow moves to the newest release it covers.
function isMovingTag(ref) {
  return /^v\d+(\.\d+)?$/.test(ref);
}

function isCommit(ref) {
  return /^[0-9a-f]{40}$/.test(ref);
}

// log writes a line to the step's log.
function log(msg) {
  process.stdout.write(`${msg}\n`);
}

// escapeData escapes a workflow command's message.
function escapeData(s) {
  return String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function warning(msg) {
  process.stdout.write(`::warning::${escapeData(msg)}\n`);
}

// get fetches url into memory, following redirects; it rejects on a status
// other than 200. err.statusCode is set for an HTTP error.
function get(url, { redirects = MAX_REDIRECTS, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    let u;
    try {
      u = new URL(url);
    } catch (err) {
      reject(err);
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!mod) {
      reject(new Error(`unsupported URL ${url}`));
      return;
    }
    const req = mod.get(u, { headers: { 'User-Agent': 'modhygiene-action', ...headers }, timeout: DOWNLOAD_TIMEOUT_MS }, (res) => {
      const { statusCode } = res;
      if ([301, 302, 303, 307, 308].includes(statusCode) && res.headers.location) {
        res.resume();
        if (redirects <= 0) {
          reject(new Error(`GET ${url}: too many redirects`));
          return;
        }
        // Credentials never follow a redirect to another host.
        const next = new URL(res.headers.location, u);
        const h = next.host === u.host ? headers : {};
        resolve(get(next.toString(), { redirects: redirects - 1, headers: h }));
        return;
      }
      if (statusCode !== 200) {
        res.resume();
        const err = new Error(`GET ${url}: ${statusCode} ${res.statusMessage || ''}`.trim());
        err.statusCode = statusCode;
        reject(err);
        return;
      }
      const chunks = [];
      let n = 0;
      res.on('data', (c) => {
        n += c.length;
        if (n > MAX_ASSET_BYTES) {
          req.destroy(new Error(`GET ${url}: larger than ${MAX_ASSET_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

// parseChecksums reads a sha256sum-style file ("<hex>  <name>" per line,
// an optional '*' before binary names) into a Map of name to hex digest.
function parseChecksums(text) {
  const sums = new Map();
  for (const line of String(text).split(/\r?\n/)) {
    const m = line.trim().match(/^([0-9a-fA-F]{64})\s+\*?(.+)$/);
    if (m) sums.set(m[2].trim(), m[1].toLowerCase());
  }
  return sums;
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

// ChecksumError is a downloaded asset that does not match checksums.txt.
class ChecksumError extends Error {}

// toolDir is the tool-cache directory of one version for one architecture,
// laid out as the runner's tool cache is: <root>/modhygiene/<key>/<arch>.
function toolDir(env, key, goarch) {
  const root = env.RUNNER_TOOL_CACHE || path.join(os.tmpdir(), 'modhygiene-tool-cache');
  return path.join(root, TOOL, key, goarch);
}

// cached returns the binary in dir when a complete one is there.
function cached(dir, goos) {
  const bin = path.join(dir, exeName(goos));
  if (fs.existsSync(`${dir}.complete`) && fs.existsSync(bin)) return bin;
  return '';
}

// install moves the file at tmp into dir atomically and marks dir complete.
function install(tmp, dir, goos) {
  fs.mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, exeName(goos));
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, bin);
  fs.writeFileSync(`${dir}.complete`, '');
  return bin;
}

function tempPath(dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `.${name}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`);
}

// releaseURL is where the assets of tag are: <base>/<repo>/releases/download/<tag>/,
// or, for tag "latest", <base>/<repo>/releases/latest/download/.
function releaseURL(env, repo, tag) {
  const base = (env[RELEASE_BASE_ENV] || env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  if (tag === 'latest') return `${base}/${repo}/releases/latest/download/`;
  return `${base}/${repo}/releases/download/${encodeURIComponent(tag)}/`;
}

// fetchVerified fetches the asset of a release and its checksums.txt and
// returns the asset once its sha256 matches; else it throws a ChecksumError.
async function fetchVerified(env, repo, tag, name) {
  const base = releaseURL(env, repo, tag);
  const [sumsText, asset] = await Promise.all([get(base + 'checksums.txt'), get(base + name)]);
  const want = parseChecksums(sumsText.toString('utf8')).get(name);
  if (!want) {
    throw new ChecksumError(`checksums.txt of ${repo}@${tag} has no entry for ${name}`);
  }
  const got = sha256(asset);
  if (got !== want) {
    throw new ChecksumError(`${name} of ${repo}@${tag}: sha256 ${got} does not match checksums.txt (${want}); refusing it`);
  }
  return asset;
}

// download fetches the release asset for tag and verifies it against the
// release's checksums.txt. It returns the installed binary's path, or
// throws: a ChecksumError when the asset does not match.
async function download(env, repo, tag, plat) {
  const name = assetName(plat.goos, plat.goarch);
  const asset = await fetchVerified(env, repo, tag, name);
  const dir = toolDir(env, tag, plat.goarch);
  const tmp = tempPath(path.dirname(dir), name);
  fs.writeFileSync(tmp, asset);
  return install(tmp, dir, plat.goos);
}

// downloadLatest serves an action used at a moving tag (v1, v1.2): it
// fetches the latest release's asset, verified against that release's
// checksums.txt, and accepts it only if its version is covered by the tag
// (v1.4.2 for v1), so that a newer major release is never run in place of
// the action's own. It returns the installed binary's path and version.
async function downloadLatest(env, repo, tag, plat) {
  const name = assetName(plat.goos, plat.goarch);
  const asset = await fetchVerified(env, repo, 'latest', name);
  const scratch = toolDir(env, `${tag}-latest`, plat.goarch);
  const tmp = tempPath(path.dirname(scratch), name);
  fs.writeFileSync(tmp, asset, { mode: 0o755 });
  let version = '';
  try {
    const res = childProcess.spawnSync(tmp, ['version'], { env, encoding: 'utf8', timeout: 30000 });
    const m = (res.stdout || '').match(/^modhygiene (v\S+)\s*$/m);
    version = m ? m[1] : '';
  } catch (_) {
    // not runnable here: handled below
  }
  if (!version.startsWith(`${tag}.`)) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`the latest release (${version || 'unknown version'}) is not a ${tag} release`);
  }
  const bin = install(tmp, toolDir(env, version, plat.goarch), plat.goos);
  return { bin, version };
}

// sourceKey names a build of the action's source: the commit when the
// action is pinned by SHA, else a hash of the Go sources that go into the
// binary (go.mod, go.sum and the .go files outside testdata).
function sourceKey(ident) {
  if (isCommit(ident.ref)) return ident.ref;
  const h = crypto.createHash('sha256');
  const walk = (rel) => {
    const entries = fs.readdirSync(path.join(ident.dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name.startsWith('.') || e.name.startsWith('_') || e.name === 'testdata' || e.name === 'node_modules') continue;
        walk(r);
      } else if (e.isFile() && (e.name === 'go.mod' || e.name === 'go.sum' || (e.name.endsWith('.go') && !e.name.endsWith('_test.go')))) {
        h.update(`${r}\0`);
        h.update(fs.readFileSync(path.join(ident.dir, r)));
        h.update('\0');
      }
    }
  };
  walk('');
  return `src-${h.digest('hex').slice(0, 16)}`;
}

// build compiles the action's own source with the go command on PATH into
// the tool cache, keyed by the action's commit.
function build(env, ident, plat) {
  if (!fs.existsSync(path.join(ident.dir, 'go.mod'))) {
    throw new Error(`no go.mod in the action's directory ${ident.dir}`);
  }
  const key = sourceKey(ident);
  const dir = toolDir(env, key, plat.goarch);
  const hit = cached(dir, plat.goos);
  if (hit) {
    log(`modhygiene: using ${hit} (built from source ${key})`);
    return hit;
  }
  const version = ident.ref && !isCommit(ident.ref) ? ident.ref : `devel-${key}`;
  const tmp = tempPath(path.dirname(dir), 'build');
  // The user's settings for their own modules must not break our build:
  // no workspace, our own go.sum, and the go command's default flags.
  const buildEnv = { ...env, GOWORK: 'off', GOFLAGS: '-mod=readonly', CGO_ENABLED: '0' };
  delete buildEnv.GOOS;
  delete buildEnv.GOARCH;
  const args = ['build', '-trimpath', '-ldflags', `-s -w -X ${MODULE}/internal/cli.Version=${version}`, '-o', tmp, './cmd/modhygiene'];
  log(`modhygiene: building from source ${key}: go ${args.join(' ')}`);
  const res = childProcess.spawnSync('go', args, { cwd: ident.dir, env: buildEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.error) {
    if (res.error.code === 'ENOENT') {
      throw new Error('go is not on PATH: add actions/setup-go before this step, or pin the action to a release tag (vX.Y.Z) to use its prebuilt binary');
    }
    throw new Error(`go build: ${res.error.message}`);
  }
  if (res.status !== 0) {
    throw new Error(`go build of the action's source failed (exit status ${res.status})`);
  }
  return install(tmp, dir, plat.goos);
}

// obtain returns the path of a modhygiene binary for this runner: from the
// tool cache, the release for the action's version, or a build of its
// source, in that order.
async function obtain(env, { dirname = __dirname, plat = goPlatform() } = {}) {
  const ident = actionIdentity(env, dirname);
  if (ident.repo && isReleaseTag(ident.ref)) {
    const hit = cached(toolDir(env, ident.ref, plat.goarch), plat.goos);
    if (hit) {
      log(`modhygiene: using ${hit} (release ${ident.ref})`);
      return hit;
    }
    try {
      const bin = await download(env, ident.repo, ident.ref, plat);
      log(`modhygiene: downloaded release ${ident.ref} (${assetName(plat.goos, plat.goarch)}, sha256 verified)`);
      return bin;
    } catch (err) {
      if (err instanceof ChecksumError) {
        warning(`modhygiene: ${err.message}; building from the action's source instead`);
      } else {
        log(`modhygiene: no release binary (${err.message}); building from the action's source`);
      }
    }
  }
  if (ident.repo && isMovingTag(ident.ref)) {
    try {
      const { bin, version } = await downloadLatest(env, ident.repo, ident.ref, plat);
      log(`modhygiene: downloaded release ${version} for ${ident.ref} (${assetName(plat.goos, plat.goarch)}, sha256 verified)`);
      return bin;
    } catch (err) {
      if (err instanceof ChecksumError) {
        warning(`modhygiene: ${err.message}; building from the action's source instead`);
      } else {
        log(`modhygiene: no release binary for ${ident.ref} (${err.message}); building from the action's source`);
      }
    }
  }
  return build(env, ident, plat);
}

// newDelimiter returns a fresh delimiter for an environment file entry.
function newDelimiter() {
  return `ghadelimiter_${crypto.randomUUID()}`;
}

// saveState appends name=value to the file in GITHUB_STATE, which the
// runner hands to the post step as STATE_<name>. The value may not contain
// the (random) delimiter.
function saveState(env, name, value) {
  const file = env.GITHUB_STATE;
  if (!file) return false;
  const delim = newDelimiter();
  if (String(name).includes(delim) || String(value).includes(delim)) {
    throw new Error(`state value for ${name} contains the delimiter`);
  }
  fs.appendFileSync(file, `${name}<<${delim}${os.EOL}${value}${os.EOL}${delim}${os.EOL}`);
  return true;
}

// exec runs bin with args and the environment unchanged, its output on
// ours, and resolves to the exit code to return. SIGINT and SIGTERM are
// passed on to it.
function exec(bin, args, env, { stdio = 'inherit' } = {}) {
  return new Promise((resolve) => {
    const child = childProcess.spawn(bin, args, { env, stdio });
    const forward = (sig) => {
      try {
        child.kill(sig);
      } catch (_) {
        // already gone
      }
    };
    const signals = ['SIGINT', 'SIGTERM'];
    for (const s of signals) process.on(s, forward);
    const done = (code) => {
      for (const s of signals) process.removeListener(s, forward);
      resolve(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`modhygiene: cannot run ${bin}: ${err.message}\n`);
      done(3);
    });
    child.on('exit', (code, signal) => {
      if (signal) {
        process.stderr.write(`modhygiene: ${bin} was killed by ${signal}\n`);
        done(os.constants.signals[signal] ? 128 + os.constants.signals[signal] : 1);
        return;
      }
      done(code);
    });
  });
}

// main is the action's main step: obtain the binary, hand its path to the
// post step, and run `modhygiene <args>` (by default `modhygiene run`).
async function main(args = ['run'], env = process.env) {
  let bin;
  try {
    bin = await obtain(env);
  } catch (err) {
    process.stdout.write(`::error::${escapeData(`modhygiene: cannot obtain the binary: ${err.message}`)}\n`);
    return 3;
  }
  saveState(env, STATE_NAME, bin);
  return exec(bin, args, env);
}

// post is the action's post step: run `modhygiene run --post` (which saves
// the caches) with the binary main used.
async function post(args = ['run', '--post'], env = process.env) {
  const bin = env[`STATE_${STATE_NAME}`];
  if (!bin) {
    log('modhygiene: the main step did not obtain the binary; nothing to do');
    return 0;
  }
  if (!fs.existsSync(bin)) {
    warning(`modhygiene: ${bin} is gone; the caches are not saved`);
    return 0;
  }
  return exec(bin, args, env);
}

module.exports = {
  ChecksumError,
  RELEASE_BASE_ENV,
  STATE_NAME,
  actionIdentity,
  assetName,
  build,
  download,
  exec,
  get,
  goPlatform,
  isMovingTag,
  isReleaseTag,
  main,
  obtain,
  parseChecksums,
  post,
  saveState,
  sourceKey,
  toolDir,
};

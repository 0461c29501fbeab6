'use strict';
// The modhygiene action's shim: obtain the modhygiene binary, then exec it.
//
// The binary is the release asset for the version that release.js resolves
// (the `version` input, else the action's ref: a release tag, a moving tag
// such as v1, or a commit SHA that a release tag points at), verified
// against the release's checksums.txt. A checksum mismatch fails the step.
// Only when no release can be had is the action's own source built with
// the go command, with a warning: that takes minutes. Either way the binary
// is kept in RUNNER_TOOL_CACHE/modhygiene/<version>/<arch>/ so that later
// steps and jobs on the same runner reuse it.
//
// Inputs the shim itself acts on (the binary reads the others as INPUT_*):
//   version          which release to run (see release.js)
//   install-only     put modhygiene on PATH for later steps and run nothing
//   args             more arguments for `modhygiene run`, split as words
//                    without a shell (args.js)
//   skip-save-cache  the post step does nothing
//   token            for the GitHub API calls that resolve a version
//
// Only node's built-in modules are used: no npm dependencies.

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ArgsError, splitArgs } = require('./args');
const release = require('./release');

const TOOL = 'modhygiene';
const MODULE = 'github.com/modhygiene/modhygiene';
// STATE_NAME is the name under which main hands the binary's path to post.
const STATE_NAME = 'modhygiene_binary';
// BUILD_COST is what a build of the action's source costs, for the warning.
const BUILD_COST = 'about 3 to 5 minutes on a hosted runner';

const GOOS = { linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd' };
const GOARCH = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

// goPlatform returns the GOOS and GOARCH of this runner.
function goPlatform(platform = process.platform, arch = process.arch) {
  return { goos: GOOS[platform] || platform, goarch: GOARCH[arch] || arch };
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

// input returns the action input name as the runner passes it (INPUT_ and
// the name upper-cased, hyphens kept), trimmed.
function input(env, name) {
  return String(env[`INPUT_${name.toUpperCase()}`] || '').trim();
}

// boolInput reads a boolean input as the runner's YAML 1.2 core schema
// does; anything else is an error.
function boolInput(env, name) {
  const v = input(env, name);
  if (['', 'false', 'False', 'FALSE'].includes(v)) return false;
  if (['true', 'True', 'TRUE'].includes(v)) return true;
  throw new ArgsError(`${name}: ${JSON.stringify(v)} is not a boolean (true or false)`);
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

function error(msg) {
  process.stdout.write(`::error::${escapeData(msg)}\n`);
}

// toolDir is the tool-cache directory of one version for one architecture,
// laid out as the runner's tool cache is: <root>/modhygiene/<key>/<arch>.
function toolDir(env, key, goarch) {
  return path.join(toolRoot(env), key, goarch);
}

function toolRoot(env) {
  return path.join(env.RUNNER_TOOL_CACHE || path.join(os.tmpdir(), 'modhygiene-tool-cache'), TOOL);
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

// fromRelease returns the binary of release plan.tag: from the tool cache,
// else downloaded and verified.
async function fromRelease(env, plan, plat) {
  const dir = toolDir(env, plan.tag, plat.goarch);
  const hit = cached(dir, plat.goos);
  if (hit) {
    log(`modhygiene: using ${hit} (release ${plan.tag}; ${plan.why})`);
    return hit;
  }
  const name = release.assetName(plat.goos, plat.goarch);
  const tmp = tempPath(path.dirname(dir), name);
  const start = Date.now();
  const got = await release.download(env, plan.repo, plan.tag, name, tmp);
  const bin = install(tmp, dir, plat.goos);
  const secs = ((Date.now() - start) / 1000).toFixed(1);
  log(`modhygiene: downloaded release ${plan.tag} (${plan.why}): ${name}, ${got.bytes} bytes in ${secs} s, sha256 verified`);
  return bin;
}

// sourceKey names a build of the action's source: the commit when the
// action is pinned by SHA, else a hash of the Go sources that go into the
// binary (go.mod, go.sum and the .go files outside testdata).
function sourceKey(ident) {
  if (release.isCommit(ident.ref)) return ident.ref;
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
// the tool cache, keyed by sourceKey. why says why no release is used; it
// is part of the warning that a build is about to cost minutes.
function build(env, ident, plat, why = '') {
  const warn = () => {
    if (why) {
      warning(`modhygiene: no release binary (${why}); building the action's source with go, which takes ${BUILD_COST}. Pin the action to a release (@vX.Y.Z, or a commit a release tag points at) or set the version input to run a prebuilt, verified binary in seconds`);
    }
  };
  if (!fs.existsSync(path.join(ident.dir, 'go.mod'))) {
    warn();
    throw new Error(`no go.mod in the action's directory ${ident.dir}`);
  }
  const key = sourceKey(ident);
  const dir = toolDir(env, key, plat.goarch);
  const hit = cached(dir, plat.goos);
  if (hit) {
    log(`modhygiene: using ${hit} (built from source ${key})`);
    return hit;
  }
  warn();
  const version = ident.ref && !release.isCommit(ident.ref) ? ident.ref : `devel-${key}`;
  const tmp = tempPath(path.dirname(dir), 'build');
  // The user's settings for their own modules must not break our build:
  // no workspace, our own go.sum, and the go command's default flags.
  const buildEnv = { ...env, GOWORK: 'off', GOFLAGS: '-mod=readonly', CGO_ENABLED: '0' };
  delete buildEnv.GOOS;
  delete buildEnv.GOARCH;
  const args = ['build', '-trimpath', '-ldflags', `-s -w -X ${MODULE}/internal/cli.Version=${version}`, '-o', tmp, './cmd/modhygiene'];
  log(`modhygiene: building from source ${key}: go ${args.join(' ')}`);
  const start = Date.now();
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
  log(`modhygiene: built in ${((Date.now() - start) / 1000).toFixed(0)} s`);
  return install(tmp, dir, plat.goos);
}

// obtain returns the path of a modhygiene binary for this runner: a
// verified release, or a build of the action's source when no release can
// be had. It throws a ChecksumError when a release fails verification and
// a VersionError when the version input names no release that can be had.
async function obtain(env, { dirname = __dirname, plat = goPlatform() } = {}) {
  const ident = actionIdentity(env, dirname);
  let plan = await release.resolve(env, ident, path.join(toolRoot(env), 'refs'));
  if (plan.tag) {
    try {
      return await fromRelease(env, plan, plat);
    } catch (err) {
      if (err instanceof release.ChecksumError) throw err;
      const what = err.statusCode === 404 ? `release ${plan.tag} has no ${release.assetName(plat.goos, plat.goarch)}` : `release ${plan.tag}: ${err.message}`;
      if (plan.explicit) throw new release.VersionError(`version: ${what}`);
      plan = { build: true, why: what };
    }
  }
  return build(env, ident, plat, plan.why);
}

// newDelimiter returns a fresh delimiter for an environment file entry.
function newDelimiter() {
  return `ghadelimiter_${crypto.randomUUID()}`;
}

// appendEnvFile appends name=value to the runner's environment file at
// file (GITHUB_STATE, GITHUB_OUTPUT) with a fresh random delimiter, which
// neither may contain.
function appendEnvFile(file, name, value) {
  if (!file) return false;
  const delim = newDelimiter();
  if (String(name).includes(delim) || String(value).includes(delim)) {
    throw new Error(`value for ${name} contains the delimiter`);
  }
  fs.appendFileSync(file, `${name}<<${delim}${os.EOL}${value}${os.EOL}${delim}${os.EOL}`);
  return true;
}

// saveState hands name=value to the post step, which sees STATE_<name>.
function saveState(env, name, value) {
  return appendEnvFile(env.GITHUB_STATE, name, value);
}

// addPath puts dir on PATH for the job's later steps (GITHUB_PATH).
function addPath(env, dir) {
  if (!env.GITHUB_PATH) return false;
  fs.appendFileSync(env.GITHUB_PATH, `${dir}${os.EOL}`);
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

// Exit codes of the shim itself, as the binary's: 2 a bad input, 3 no
// binary (or one that failed verification).
const EXIT_USAGE = 2;
const EXIT_FAILED = 3;

// main is the action's main step: obtain the binary and either put it on
// PATH (install-only) or hand its path to the post step and run
// `modhygiene run <args>`.
async function main(args = ['run'], env = process.env) {
  let extra;
  let installOnly;
  try {
    extra = splitArgs(input(env, 'args'));
    installOnly = boolInput(env, 'install-only');
  } catch (err) {
    error(`modhygiene: ${err.message}`);
    return EXIT_USAGE;
  }
  let bin;
  try {
    bin = await obtain(env);
  } catch (err) {
    error(`modhygiene: cannot obtain the binary: ${err.message}`);
    return err instanceof release.VersionError ? EXIT_USAGE : EXIT_FAILED;
  }
  if (installOnly) {
    addPath(env, path.dirname(bin));
    log(`modhygiene: ${bin} is on PATH for the next steps (install-only: nothing runs)`);
    return 0;
  }
  saveState(env, STATE_NAME, bin);
  return exec(bin, [...args, ...extra], env);
}

// post is the action's post step: run `modhygiene run --post <args>` (which
// saves the caches) with the binary main used, unless skip-save-cache.
async function post(args = ['run', '--post'], env = process.env) {
  let extra;
  let skip;
  try {
    extra = splitArgs(input(env, 'args'));
    skip = boolInput(env, 'skip-save-cache');
  } catch (err) {
    warning(`modhygiene: ${err.message}; the caches are not saved`);
    return 0;
  }
  if (skip) {
    log('modhygiene: skip-save-cache is true; nothing to save');
    return 0;
  }
  const bin = env[`STATE_${STATE_NAME}`];
  if (!bin) {
    log('modhygiene: the main step did not run the binary; nothing to do');
    return 0;
  }
  if (!fs.existsSync(bin)) {
    warning(`modhygiene: ${bin} is gone; the caches are not saved`);
    return 0;
  }
  return exec(bin, [...args, ...extra], env);
}

module.exports = {
  ...release,
  BUILD_COST,
  STATE_NAME,
  actionIdentity,
  build,
  exec,
  goPlatform,
  main,
  obtain,
  post,
  saveState,
  sourceKey,
  splitArgs,
  toolDir,
};

'use strict';
// Which release of modhygiene the action runs, and getting its binary.
//
// resolve turns the `version` input and the action's ref into a plan:
//   version: vX.Y.Z     that release
//   version: vX, vX.Y   the newest release of that line (no pre-releases)
//   version: latest     the newest release
//   (empty), ref vX.Y.Z that release
//   (empty), ref vX     the newest vX release (never another major)
//   (empty), ref <sha>  the newest release tag that points at the commit,
//                       found through the GitHub API (GET /repos/R/tags)
//   anything else       no release: the action's source is built
// download fetches the release asset modhygiene_<os>_<arch>[.exe] and the
// release's checksums.txt and accepts the asset only when its sha256 is
// the one checksums.txt lists (ChecksumError otherwise: never run, never
// replaced by a build).

const fs = require('fs');
const path = require('path');
const { HttpError, getBuffer, getFile, open } = require('./http');

// DEFAULT_REPO serves a `version` input when the action's repository is
// unknown (a local action, uses: ./).
const DEFAULT_REPO = 'modhygiene/modhygiene';
// RELEASE_BASE_ENV and API_BASE_ENV override where releases and the API are
// (default: GITHUB_SERVER_URL and GITHUB_API_URL): for a GitHub Enterprise
// Server whose actions are synced from github.com, and for tests.
const RELEASE_BASE_ENV = 'MODHYGIENE_RELEASE_BASE_URL';
const API_BASE_ENV = 'MODHYGIENE_API_URL';
const API_TIMEOUT_MS = 20000;
const MAX_PAGES = 10;

// ChecksumError is a release asset that cannot be verified against the
// release's checksums.txt: the step fails.
class ChecksumError extends Error {}
// VersionError is a `version` input that names no release that can be had:
// the step fails (building other source would not be the version asked for).
class VersionError extends Error {}

const SEMVER = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

// isReleaseTag reports whether ref names one release: vMAJOR.MINOR.PATCH
// with an optional pre-release suffix.
function isReleaseTag(ref) {
  return SEMVER.test(ref);
}

// isMovingTag reports whether ref is a major or minor tag (v1, v1.2) that
// the release workflow moves to the newest release it covers.
function isMovingTag(ref) {
  return /^v\d+(\.\d+)?$/.test(ref);
}

function isCommit(ref) {
  return /^[0-9a-f]{40}$/.test(ref);
}

// compareVersions orders release tags as semantic versions (a pre-release
// before its release).
function compareVersions(a, b) {
  const x = SEMVER.exec(a);
  const y = SEMVER.exec(b);
  for (let i = 1; i <= 3; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d;
  }
  if (!x[4] !== !y[4]) return x[4] ? -1 : 1;
  return (x[4] || '') < (y[4] || '') ? -1 : (x[4] || '') > (y[4] || '') ? 1 : 0;
}

// covers reports whether a moving tag (v1, v1.2) covers release tag.
function covers(moving, tag) {
  return tag.startsWith(`${moving}.`) && !SEMVER.exec(tag)[4];
}

function newest(tags) {
  return tags.filter(isReleaseTag).sort(compareVersions).pop() || '';
}

function serverURL(env) {
  return (env[RELEASE_BASE_ENV] || env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
}

function apiURL(env) {
  return (env[API_BASE_ENV] || env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
}

// apiPages GETs every page of a GitHub API list (up to MAX_PAGES), following
// the Link header, and resolves to the items. The token, when there is one,
// goes to the API host only.
async function apiPages(env, p) {
  const headers = { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' };
  const token = (env['INPUT_TOKEN'] || '').trim();
  if (token) headers.Authorization = `Bearer ${token}`;
  let url = `${apiURL(env)}${p}${p.includes('?') ? '&' : '?'}per_page=100`;
  const items = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const { body, headers: h } = await getBuffer(url, { headers, timeout: API_TIMEOUT_MS, maxBytes: 16 << 20 });
    const list = JSON.parse(body.toString('utf8'));
    if (!Array.isArray(list)) throw new Error(`GET ${url}: not a list`);
    items.push(...list);
    const next = /<([^>]+)>;\s*rel="next"/.exec(h.link || '');
    url = next ? next[1] : '';
  }
  return items;
}

// releaseTags lists the published releases' tags (no drafts, no
// pre-releases).
async function releaseTags(env, repo) {
  const list = await apiPages(env, `/repos/${repo}/releases`);
  return list.filter((r) => !r.draft && !r.prerelease).map((r) => r.tag_name);
}

// latestByRedirect asks the release page (not the API, which has a rate
// limit) which release is the latest: /R/releases/latest redirects to
// /R/releases/tag/<tag>.
async function latestByRedirect(env, repo) {
  const res = await open(`${serverURL(env)}/${repo}/releases/latest`, { follow: false, timeout: API_TIMEOUT_MS });
  res.resume();
  const m = /\/releases\/tag\/([^/?#]+)$/.exec(res.headers.location || '');
  return m ? decodeURIComponent(m[1]) : '';
}

// newestOf resolves to the newest release tag covered by want (a moving
// tag, or "latest"); '' when there is none. When the API cannot be asked it
// falls back to the latest release, if want covers it.
async function newestOf(env, repo, want) {
  let tags;
  try {
    tags = await releaseTags(env, repo);
  } catch (err) {
    const latest = await latestByRedirect(env, repo).catch(() => '');
    if (latest && (want === 'latest' || covers(want, latest))) return latest;
    throw err;
  }
  return newest(want === 'latest' ? tags : tags.filter((t) => covers(want, t)));
}

// tagOfCommit resolves to the newest release tag that points at sha, found
// through GET /repos/R/tags (a remembered answer is reused: a tag, once
// found, names that commit for good).
async function tagOfCommit(env, repo, sha, memo) {
  if (memo && fs.existsSync(memo)) {
    const tag = fs.readFileSync(memo, 'utf8').trim();
    if (isReleaseTag(tag)) return tag;
  }
  const tags = await apiPages(env, `/repos/${repo}/tags`);
  const tag = newest(tags.filter((t) => t.commit && t.commit.sha === sha).map((t) => t.name));
  if (tag && memo) {
    fs.mkdirSync(path.dirname(memo), { recursive: true });
    fs.writeFileSync(memo, `${tag}\n`);
  }
  return tag;
}

// resolveInput serves an explicit `version` input.
async function resolveInput(env, repo, input) {
  const want = /^\d/.test(input) ? `v${input}` : input;
  if (isReleaseTag(want)) return { repo, tag: want, explicit: true, why: `version: ${input}` };
  if (!isMovingTag(want) && want !== 'latest') {
    throw new VersionError(`version: ${JSON.stringify(input)}: want a release (v1.2.3), a release line (v1, v1.2) or latest`);
  }
  let tag;
  try {
    tag = await newestOf(env, repo, want);
  } catch (err) {
    throw new VersionError(`version: ${input}: cannot list the releases of ${repo}: ${err.message}`);
  }
  if (!tag) throw new VersionError(`version: ${input}: ${repo} has no such release`);
  return { repo, tag, explicit: true, why: `version: ${input}` };
}

// resolve says which release to run, or why none (plan.build).
async function resolve(env, ident, memoDir) {
  const input = (env['INPUT_VERSION'] || '').trim();
  if (input) return resolveInput(env, ident.repo || DEFAULT_REPO, input);
  const { repo, ref } = ident;
  if (!repo) return { build: true, why: 'a local action (uses: ./) has no release' };
  if (isReleaseTag(ref)) return { repo, tag: ref, why: `the action's ref ${ref}` };
  try {
    if (isMovingTag(ref)) {
      const tag = await newestOf(env, repo, ref);
      if (tag) return { repo, tag, why: `the newest ${ref} release` };
      return { build: true, why: `${repo} has no ${ref} release` };
    }
    if (isCommit(ref)) {
      const tag = await tagOfCommit(env, repo, ref, memoDir && path.join(memoDir, `commit-${ref}`));
      if (tag) return { repo, tag, why: `release ${tag}, which points at the action's commit ${ref.slice(0, 12)}` };
      return { build: true, why: `no release tag of ${repo} points at commit ${ref}` };
    }
  } catch (err) {
    return { build: true, why: `cannot ask the GitHub API about ${repo}@${ref}: ${err.message}` };
  }
  return { build: true, why: `the action's ref ${ref || '(unknown)'} is neither a release tag nor a commit that one points at` };
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

// assetName is the release asset for a platform: modhygiene_<os>_<arch>[.exe].
function assetName(goos, goarch) {
  return `modhygiene_${goos}_${goarch}${goos === 'windows' ? '.exe' : ''}`;
}

// download fetches the asset of release tag into file and checks it against
// the release's checksums.txt. A missing asset rejects with an HttpError
// (404): the release has no binary for this platform. Anything that fails
// verification rejects with a ChecksumError, and the file is removed.
async function download(env, repo, tag, name, file) {
  const base = `${serverURL(env)}/${repo}/releases/download/${encodeURIComponent(tag)}/`;
  const [sums, got] = await Promise.all([
    getBuffer(base + 'checksums.txt', { maxBytes: 1 << 20 }).catch((err) => ({ err })),
    getFile(base + name, file),
  ]);
  try {
    if (sums.err) {
      throw new ChecksumError(`cannot read checksums.txt of ${repo}@${tag} (${sums.err.message}); refusing an unverified ${name}`);
    }
    const want = parseChecksums(sums.body.toString('utf8')).get(name);
    if (!want) throw new ChecksumError(`checksums.txt of ${repo}@${tag} has no entry for ${name}; refusing it`);
    if (got.sha256 !== want) {
      throw new ChecksumError(`${name} of ${repo}@${tag}: sha256 ${got.sha256} does not match checksums.txt (${want}); refusing it`);
    }
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  return got;
}

module.exports = {
  API_BASE_ENV,
  ChecksumError,
  DEFAULT_REPO,
  HttpError,
  RELEASE_BASE_ENV,
  VersionError,
  assetName,
  compareVersions,
  download,
  isCommit,
  isMovingTag,
  isReleaseTag,
  parseChecksums,
  resolve,
};

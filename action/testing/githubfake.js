'use strict';
// A fake of the parts of GitHub the shim talks to, for tests: the REST API
// (GET /repos/R/tags and /repos/R/releases, paged with Link headers as
// GitHub pages them), the release pages (/R/releases/latest redirects to
// /R/releases/tag/<tag>) and release downloads, which redirect to a second
// server standing in for GitHub's blob storage. Node's built-ins only.
//
//   const gh = await startGitHubFake({ repo: 'acme/modhygiene', releases, tags, token });
//   env.GITHUB_SERVER_URL = gh.url; env.GITHUB_API_URL = gh.api;
//   ... gh.requests (every request: {host, path, auth}) ...
//   await gh.close();
//
// releases: {tag: {assets: {name: Buffer|string}, prerelease, draft}}
// tags: [{name, sha}] (any order; served newest name first, as GitHub does)

const http = require('http');

function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

// page serves one page of list as GitHub does: per_page (at most 100) and
// page from the query, a Link header with rel="next" when more remain.
function page(res, u, list) {
  const per = Math.min(Number(u.searchParams.get('per_page') || 30), 100);
  const n = Number(u.searchParams.get('page') || 1);
  const items = list.slice((n - 1) * per, n * per);
  const headers = {};
  if (n * per < list.length) {
    const next = new URL(u);
    next.searchParams.set('page', String(n + 1));
    headers.Link = `<${next}>; rel="next"`;
  }
  json(res, 200, items, headers);
}

// startGitHubFake starts the fake and its blob host on loopback ports.
async function startGitHubFake({ repo, releases = {}, tags = [], token = '', failAPI = 0 } = {}) {
  const fake = { requests: [], failAPI };
  const blobs = new Map();
  const blob = await listen((req, res) => {
    fake.requests.push({ host: 'blob', path: req.url, auth: req.headers.authorization || '' });
    const data = blobs.get(new URL(req.url, 'http://x').pathname);
    if (data === undefined) {
      res.writeHead(404);
      res.end('no such blob');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length });
    res.end(data);
  });
  const order = Object.keys(releases).sort().reverse();
  const gh = await listen((req, res) => {
    const u = new URL(req.url, fake.url);
    const auth = req.headers.authorization || '';
    fake.requests.push({ host: 'github', path: u.pathname + u.search, auth });
    const p = u.pathname;
    if (p.startsWith('/api/')) {
      if (fake.failAPI > 0) {
        fake.failAPI--;
        json(res, 403, { message: 'API rate limit exceeded' });
        return;
      }
      if (token && auth !== `Bearer ${token}`) {
        json(res, 401, { message: 'Bad credentials' });
        return;
      }
      if (p === `/api/repos/${repo}/tags`) {
        const sorted = [...tags].sort((a, b) => (a.name < b.name ? 1 : -1));
        page(res, u, sorted.map((t) => ({ name: t.name, commit: { sha: t.sha, url: '' } })));
        return;
      }
      if (p === `/api/repos/${repo}/releases`) {
        page(res, u, order.map((tag) => ({ tag_name: tag, draft: !!releases[tag].draft, prerelease: !!releases[tag].prerelease })));
        return;
      }
      json(res, 404, { message: 'Not Found' });
      return;
    }
    if (p === `/${repo}/releases/latest`) {
      const latest = order.filter((t) => !releases[t].draft && !releases[t].prerelease)[0];
      res.writeHead(302, { Location: `${fake.url}/${repo}/releases/tag/${latest}` });
      res.end();
      return;
    }
    const m = p.match(/^\/([^/]+\/[^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/);
    const rel = m && m[1] === repo && releases[decodeURIComponent(m[2])];
    const asset = rel && rel.assets[m[3]];
    if (asset === undefined || asset === null) {
      res.writeHead(404);
      res.end('Not Found');
      return;
    }
    const key = `/blobs/${m[2]}/${m[3]}`;
    blobs.set(key, Buffer.from(asset));
    res.writeHead(302, { Location: `${blob.url}${key}?sig=abc` });
    res.end();
  });
  fake.url = gh.url;
  fake.api = `${gh.url}/api`;
  fake.close = () => Promise.all([new Promise((r) => gh.server.close(r)), new Promise((r) => blob.server.close(r))]);
  return fake;
}

module.exports = { startGitHubFake };

'use strict';
// A fake of the GitHub Actions cache service (v2) for tests: the Twirp JSON
// API at ACTIONS_RESULTS_URL and the blob storage behind its signed URLs
// (Azure Blob style: Put Blob, Put Block + Put Block List, plain and ranged
// GET). Entries live in memory. Node's built-ins only.
//
//   const fake = await startCacheFake({ token: 'tok' });
//   env.ACTIONS_RESULTS_URL = fake.url + '/';
//   ... fake.entries, fake.requests ...
//   await fake.close();

const crypto = require('crypto');
const http = require('http');

const TWIRP = '/twirp/github.actions.results.api.v1.CacheService/';

// startCacheFake listens on a loopback port and resolves to the fake.
// Options: token (the expected bearer token; default "fake-runtime-token").
function startCacheFake({ token = 'fake-runtime-token' } = {}) {
  const fake = {
    url: '',
    token,
    // entries by "<version>\0<key>": {key, version, blob, size, finalized, created}
    entries: new Map(),
    // every request: {method, path, twirp, body}
    requests: [],
    sig: crypto.randomBytes(8).toString('hex'),
  };
  const blobs = new Map(); // blob id -> {data, blocks: Map}
  let seq = 0;

  const blobURL = (id) => `${fake.url}/blob/${id}?sv=2024-01-01&sig=${fake.sig}`;

  const lookup = (key, restoreKeys, version) => {
    const done = [...fake.entries.values()].filter((e) => e.finalized && e.version === version);
    const newest = (list) => list.sort((a, b) => b.created - a.created)[0];
    for (const k of [key, ...(restoreKeys || [])]) {
      const exact = done.find((e) => e.key === k);
      if (exact) return exact;
      const prefixed = newest(done.filter((e) => e.key.startsWith(k)));
      if (prefixed) return prefixed;
    }
    return null;
  };

  const twirp = (method, req) => {
    switch (method) {
      case 'GetCacheEntryDownloadURL': {
        const e = lookup(req.key, req.restore_keys, req.version);
        if (!e) return [200, { ok: false, signed_download_url: '', matched_key: '' }];
        return [200, { ok: true, signed_download_url: blobURL(e.blob), matched_key: e.key }];
      }
      case 'CreateCacheEntry': {
        const id = `${req.version}\0${req.key}`;
        if (!req.key || !req.version) return [400, { code: 'invalid_argument', msg: 'key and version are required' }];
        if (fake.entries.has(id)) return [409, { code: 'already_exists', msg: 'cache entry already exists' }];
        const blob = `b${++seq}`;
        blobs.set(blob, { data: null, blocks: new Map() });
        fake.entries.set(id, { key: req.key, version: req.version, blob, size: 0, finalized: false, created: seq });
        return [200, { ok: true, signed_upload_url: blobURL(blob) }];
      }
      case 'FinalizeCacheEntryUpload': {
        const e = fake.entries.get(`${req.version}\0${req.key}`);
        if (!e) return [404, { code: 'not_found', msg: 'no such cache entry' }];
        const b = blobs.get(e.blob);
        const size = Number(req.size_bytes);
        if (!b.data || b.data.length !== size) {
          return [400, { code: 'invalid_argument', msg: `size ${size} does not match the uploaded ${b.data ? b.data.length : 0} bytes` }];
        }
        e.size = size;
        e.finalized = true;
        return [200, { ok: true, entry_id: String(seq) }];
      }
      default:
        return [404, { code: 'bad_route', msg: `no method ${method}` }];
    }
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const u = new URL(req.url, 'http://fake');
      const record = { method: req.method, path: u.pathname, query: Object.fromEntries(u.searchParams), headers: req.headers };
      fake.requests.push(record);
      const json = (status, v) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (u.pathname.startsWith(TWIRP)) {
        if (req.headers.authorization !== `Bearer ${fake.token}`) {
          json(401, { code: 'unauthenticated', msg: 'bad token' });
          return;
        }
        let parsed;
        try {
          parsed = JSON.parse(body.toString('utf8') || '{}');
        } catch (err) {
          json(400, { code: 'malformed', msg: err.message });
          return;
        }
        record.twirp = u.pathname.slice(TWIRP.length);
        record.body = parsed;
        const [status, out] = twirp(record.twirp, parsed);
        json(status, out);
        return;
      }
      const m = u.pathname.match(/^\/blob\/(b\d+)$/);
      const b = m && blobs.get(m[1]);
      if (!b || u.searchParams.get('sig') !== fake.sig) {
        res.writeHead(403);
        res.end('AuthenticationFailed');
        return;
      }
      if (req.method === 'PUT') {
        const comp = u.searchParams.get('comp');
        if (comp === 'block') {
          b.blocks.set(u.searchParams.get('blockid'), body);
        } else if (comp === 'blocklist') {
          const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((x) => x[1]);
          if (ids.some((id) => !b.blocks.has(id))) {
            res.writeHead(400);
            res.end('InvalidBlockList');
            return;
          }
          b.data = Buffer.concat(ids.map((id) => b.blocks.get(id)));
        } else if (req.headers['x-ms-blob-type'] === 'BlockBlob') {
          b.data = body;
        } else {
          res.writeHead(400);
          res.end('MissingRequiredHeader x-ms-blob-type');
          return;
        }
        if (b.data) {
          // A committed blob gets a new ETag, as Azure gives one per write.
          b.etag = `"0x${crypto.createHash('sha256').update(b.data).digest('hex').slice(0, 16).toUpperCase()}"`;
          b.modified = new Date().toUTCString();
        }
        res.writeHead(201, b.etag ? { ETag: b.etag, 'Last-Modified': b.modified } : {});
        res.end();
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (!b.data) {
          res.writeHead(404);
          res.end('BlobNotFound');
          return;
        }
        if (req.headers['if-match'] && req.headers['if-match'] !== b.etag) {
          // The blob changed under a client that read part of it.
          res.writeHead(412);
          res.end('ConditionNotMet');
          return;
        }
        const blobHeaders = {
          ETag: b.etag,
          'Last-Modified': b.modified,
          'x-ms-blob-type': 'BlockBlob',
          'Accept-Ranges': 'bytes',
          'Content-Type': 'application/octet-stream',
        };
        const range = (req.headers.range || req.headers['x-ms-range'] || '').match(/^bytes=(\d+)-(\d*)$/);
        if (range) {
          const start = Number(range[1]);
          const end = range[2] ? Math.min(Number(range[2]), b.data.length - 1) : b.data.length - 1;
          res.writeHead(206, {
            ...blobHeaders,
            'Content-Length': end - start + 1,
            'Content-Range': `bytes ${start}-${end}/${b.data.length}`,
          });
          res.end(req.method === 'HEAD' ? undefined : b.data.subarray(start, end + 1));
          return;
        }
        res.writeHead(200, { ...blobHeaders, 'Content-Length': b.data.length });
        res.end(req.method === 'HEAD' ? undefined : b.data);
        return;
      }
      res.writeHead(405);
      res.end();
    });
  });

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      fake.url = `http://127.0.0.1:${server.address().port}`;
      fake.close = () => new Promise((r) => server.close(() => r()));
      // finalized lists the saved entries.
      fake.finalized = () => [...fake.entries.values()].filter((e) => e.finalized);
      resolve(fake);
    });
  });
}

module.exports = { startCacheFake, TWIRP };

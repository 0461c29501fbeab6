'use strict';
// The shim's HTTP client: GET with redirects, timeouts and a size limit,
// into memory or into a file while hashing it. Node's built-ins only.
//
// Credentials (an Authorization header) are sent only to the host they were
// given for: a redirect to another host (GitHub sends release downloads to
// its blob storage) drops them.

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');

const MAX_REDIRECTS = 5;
const MAX_BYTES = 512 << 20;
const TIMEOUT_MS = 120000;

// HttpError is a response other than 200 (or a redirect when redirects are
// not followed); statusCode says which.
class HttpError extends Error {
  constructor(url, res) {
    super(`GET ${url}: ${res.statusCode} ${res.statusMessage || ''}`.trim());
    this.statusCode = res.statusCode;
  }
}

function isRedirect(res) {
  return [301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location;
}

// open resolves to the first response that is not a redirect (or, with
// follow false, to the redirect itself); it rejects on a status other than
// 200 and 3xx.
function open(url, { headers = {}, follow = true, redirects = MAX_REDIRECTS, timeout = TIMEOUT_MS } = {}) {
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
    const req = mod.get(u, { headers: { 'User-Agent': 'modhygiene-action', ...headers }, timeout }, (res) => {
      if (isRedirect(res) && follow) {
        res.resume();
        if (redirects <= 0) {
          reject(new Error(`GET ${url}: too many redirects`));
          return;
        }
        const next = new URL(res.headers.location, u);
        const h = next.host === u.host ? headers : withoutAuth(headers);
        resolve(open(next.toString(), { headers: h, follow, redirects: redirects - 1, timeout }));
        return;
      }
      if (res.statusCode !== 200 && !(isRedirect(res) && !follow)) {
        res.resume();
        reject(new HttpError(url, res));
        return;
      }
      res.url = url;
      res.req = req;
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out after ${timeout / 1000} s`)));
    req.on('error', reject);
  });
}

function withoutAuth(headers) {
  const h = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== 'authorization') h[k] = v;
  }
  return h;
}

// drain reads res, calling onChunk for each chunk, and rejects when it is
// larger than maxBytes.
function drain(res, onChunk, maxBytes = MAX_BYTES) {
  return new Promise((resolve, reject) => {
    let n = 0;
    res.on('data', (c) => {
      n += c.length;
      if (n > maxBytes) {
        res.req.destroy(new Error(`GET ${res.url}: larger than ${maxBytes} bytes`));
        return;
      }
      onChunk(c);
    });
    res.on('end', () => resolve(n));
    res.on('error', reject);
    res.req.on('error', reject);
  });
}

// getBuffer fetches url into memory; it resolves to {body, headers}.
async function getBuffer(url, opts = {}) {
  const res = await open(url, opts);
  const chunks = [];
  await drain(res, (c) => chunks.push(c), opts.maxBytes);
  return { body: Buffer.concat(chunks), headers: res.headers };
}

// getFile streams url into file (created with mode 0o600) while hashing it;
// it resolves to {sha256, bytes}. On an error the file is removed.
async function getFile(url, file, opts = {}) {
  const res = await open(url, opts);
  const h = crypto.createHash('sha256');
  const out = fs.createWriteStream(file, { mode: 0o600 });
  const closed = new Promise((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
  });
  try {
    const bytes = await drain(res, (c) => {
      h.update(c);
      if (!out.write(c)) {
        res.pause();
        out.once('drain', () => res.resume());
      }
    }, opts.maxBytes);
    out.end();
    await closed;
    return { sha256: h.digest('hex'), bytes };
  } catch (err) {
    out.destroy();
    fs.rmSync(file, { force: true });
    throw err;
  }
}

module.exports = { HttpError, getBuffer, getFile, open };

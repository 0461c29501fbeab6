'use strict';
// The cache-service fake used by the simulated job behaves as the service
// does for the calls modhygiene makes.

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { startCacheFake, TWIRP } = require('./testing/cachefake');

async function call(fake, method, body, token = fake.token) {
  const res = await fetch(fake.url + TWIRP + method, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

test('save and restore through the fake', async (t) => {
  const fake = await startCacheFake();
  t.after(() => fake.close());
  const v = 'v1';

  assert.equal((await call(fake, 'CreateCacheEntry', { key: 'k', version: v }, 'wrong')).status, 401);
  const miss = await call(fake, 'GetCacheEntryDownloadURL', { key: 'gomod-abc', version: v });
  assert.equal(miss.body.ok, false);

  const created = await call(fake, 'CreateCacheEntry', { key: 'gomod-abc', version: v });
  assert.equal(created.body.ok, true);
  const dup = await call(fake, 'CreateCacheEntry', { key: 'gomod-abc', version: v });
  assert.equal(dup.status, 409);

  // Put Block + Put Block List.
  const up = created.body.signed_upload_url;
  const put = (url, body, headers = {}) => fetch(url, { method: 'PUT', body, headers });
  assert.equal((await put(`${up}&comp=block&blockid=QQ==`, 'hello ')).status, 201);
  assert.equal((await put(`${up}&comp=block&blockid=Qg==`, 'world')).status, 201);
  const list = '<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>QQ==</Latest><Latest>Qg==</Latest></BlockList>';
  assert.equal((await put(`${up}&comp=blocklist`, list)).status, 201);
  const bad = await call(fake, 'FinalizeCacheEntryUpload', { key: 'gomod-abc', version: v, size_bytes: '3' });
  assert.equal(bad.status, 400);
  const fin = await call(fake, 'FinalizeCacheEntryUpload', { key: 'gomod-abc', version: v, size_bytes: '11' });
  assert.equal(fin.body.ok, true);

  // Exact, prefix and restore-key lookups; other versions do not match.
  const exact = await call(fake, 'GetCacheEntryDownloadURL', { key: 'gomod-abc', version: v });
  assert.equal(exact.body.matched_key, 'gomod-abc');
  const dl = await fetch(exact.body.signed_download_url);
  assert.equal(await dl.text(), 'hello world');
  const ranged = await fetch(exact.body.signed_download_url, { headers: { Range: 'bytes=6-' } });
  assert.equal(ranged.status, 206);
  assert.equal(await ranged.text(), 'world');
  // The Azure SDK the real client uses asks HEAD first and pins the blob
  // with If-Match on the ETag it got.
  const head = await fetch(exact.body.signed_download_url, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '11');
  assert.match(head.headers.get('etag'), /^"0x[0-9A-F]{16}"$/);
  assert.equal(head.headers.get('x-ms-blob-type'), 'BlockBlob');
  const pinned = await fetch(exact.body.signed_download_url, { headers: { 'If-Match': head.headers.get('etag'), Range: 'bytes=0-4' } });
  assert.equal(await pinned.text(), 'hello');
  const stale = await fetch(exact.body.signed_download_url, { headers: { 'If-Match': '"0xDEAD"' } });
  assert.equal(stale.status, 412);
  const fallback = await call(fake, 'GetCacheEntryDownloadURL', { key: 'gomod-xyz', restore_keys: ['gomod-'], version: v });
  assert.equal(fallback.body.matched_key, 'gomod-abc');
  const other = await call(fake, 'GetCacheEntryDownloadURL', { key: 'gomod-abc', version: 'v2' });
  assert.equal(other.body.ok, false);

  // Put Blob in one request.
  const c2 = await call(fake, 'CreateCacheEntry', { key: 'gobuild-1', version: v });
  assert.equal((await put(c2.body.signed_upload_url, 'x', {})).status, 400, 'x-ms-blob-type is required');
  assert.equal((await put(c2.body.signed_upload_url, 'xyz', { 'x-ms-blob-type': 'BlockBlob' })).status, 201);
  assert.equal((await call(fake, 'FinalizeCacheEntryUpload', { key: 'gobuild-1', version: v, size_bytes: 3 })).body.ok, true);
  assert.deepEqual(fake.finalized().map((e) => e.key), ['gomod-abc', 'gobuild-1']);
  assert.equal((await fetch(up.replace(/sig=[^&]+/, 'sig=nope'))).status, 403);
});

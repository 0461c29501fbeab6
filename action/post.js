'use strict';
// The action's post step: run `modhygiene run --post`, which saves the caches.
const { post } = require('./lib');

post().then((code) => {
  process.exitCode = code;
});

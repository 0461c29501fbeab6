'use strict';
// The action's main step: obtain modhygiene and run `modhygiene run`.
const { main } = require('./lib');

main().then((code) => {
  process.exitCode = code;
});

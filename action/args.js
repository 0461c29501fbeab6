'use strict';
// splitArgs turns the action's `args` input into an argument list the way a
// POSIX shell splits words, without a shell: nothing is expanded ($VAR, `cmd`,
// globs and ~ stay as written), so an input can never run a command.
//
//   --baseline base.json --json 'out dir/run.json'  ->  ['--baseline', 'base.json', '--json', 'out dir/run.json']
//
// Rules: spaces, tabs and newlines separate words; '...' keeps everything
// literally; "..." keeps everything but lets a backslash escape " \ $ and `;
// outside quotes a backslash keeps the next character (a backslash before a
// newline joins lines). An unterminated quote is an error (ArgsError).

class ArgsError extends Error {}

const DOUBLE_ESCAPES = new Set(['"', '\\', '$', '`', '\n']);

// quoted reads a quoted section of s that opens at i and returns the text it
// stands for and the index after its closing quote.
function quoted(s, i) {
  const q = s[i];
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === q) return { text: out, next: j + 1 };
    if (q === '"' && c === '\\' && j + 1 < s.length && DOUBLE_ESCAPES.has(s[j + 1])) {
      if (s[j + 1] !== '\n') out += s[j + 1];
      j++;
      continue;
    }
    out += c;
  }
  throw new ArgsError(`args: unterminated ${q === '"' ? 'double' : 'single'} quote starting at character ${i + 1}`);
}

// splitArgs splits s into words; an empty or blank s gives [].
function splitArgs(s) {
  const words = [];
  let word = null; // null: between words
  const str = String(s || '');
  for (let i = 0; i < str.length; ) {
    const c = str[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "'" || c === '"') {
      const { text, next } = quoted(str, i);
      word = (word || '') + text;
      i = next;
    } else if (c === '\\' && i + 1 < str.length) {
      if (str[i + 1] !== '\n') word = (word || '') + str[i + 1];
      i += 2;
    } else {
      word = (word || '') + c;
      i++;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

module.exports = { ArgsError, splitArgs };

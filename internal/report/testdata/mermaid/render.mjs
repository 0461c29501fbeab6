// Parses and renders Mermaid diagrams with the real Mermaid library, for
// internal/report's TestMermaid. Run from the directory that holds
// node_modules/mermaid and node_modules/jsdom (scripts/ci/mermaid.sh
// installs them), with the module given on standard input:
//
//   node --input-type=module - DIAGRAM... < render.mjs
//
// Each argument is a file holding one diagram. It prints one JSON object a
// line: {"file", "ok", "type", "error", "labels", "elements", "active",
// "svg"}: the diagram type Mermaid detected, the text of the flowchart's
// node labels as rendered (entities decoded), the names of the SVG's
// elements, its attributes that run code or link away (on*, href), and the
// SVG. Layout runs in jsdom, whose text has no
// size: getBBox and getComputedTextLength are estimated from the text.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
const w = dom.window;
globalThis.window = w;
globalThis.document = w.document;
for (const k of ['Element', 'HTMLElement', 'SVGElement', 'Node', 'DOMParser', 'navigator', 'MutationObserver', 'CSSStyleSheet', 'XMLSerializer', 'getComputedStyle']) {
  if (!(k in globalThis)) globalThis[k] = w[k];
}
const size = (el) => 7 * (el.textContent || '').length;
w.SVGElement.prototype.getBBox = function () { return { x: 0, y: 0, width: size(this), height: 16 }; };
w.SVGElement.prototype.getComputedTextLength = function () { return size(this); };

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

const files = process.argv.slice(2);
let n = 0;

// draw parses and renders one diagram into out.
async function draw(text, out) {
  const parsed = await mermaid.parse(text);
  out.type = parsed.diagramType;
  const { svg } = await mermaid.render('d' + n++, text);
  const holder = w.document.createElement('div');
  holder.innerHTML = svg;
  out.labels = [...holder.querySelectorAll('g.node')].map((g) => g.textContent.trim());
  // Every element name, and every attribute that runs code or links.
  const all = [...holder.querySelectorAll('*')];
  out.elements = [...new Set(all.map((e) => e.localName))].sort();
  out.active = all.flatMap((e) => [...e.attributes]
    .filter((a) => /^on/i.test(a.name) || (/href$/i.test(a.name) && !/^#/.test(a.value)))
    .map((a) => `${e.localName} ${a.name}=${a.value}`));
  out.svg = svg;
  out.ok = true;
}

for (const file of files) {
  const out = { file, ok: false };
  // A label with an image in it makes Mermaid wait for the image to load,
  // which never happens here: give up after a while, as an error.
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out (an image in a label?)')), 10000);
  });
  try {
    await Promise.race([draw(readFileSync(file, 'utf8'), out), timeout]);
  } catch (e) {
    out.ok = false;
    out.error = String((e && e.message) || e);
  } finally {
    clearTimeout(timer);
  }
  // mermaid.render leaves its scratch elements behind on failure.
  w.document.body.innerHTML = '';
  process.stdout.write(JSON.stringify(out) + '\n');
}
// A diagram that timed out may have left work pending: do not wait for it.
process.exit(0);

// Checks BPMN files with the tools of bpmn.io, for server/tests/bpmn_tools.rs:
//   node check.mjs --out DIR FILE.bpmn...
// For each file: bpmn-moddle reads it (its warnings are reported), bpmnlint runs the
// recommended rules (no-bpmndi included), and bpmn-js renders it in headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core) with a screenshot saved as
// DIR/<file>.png and every console error and page error reported. Prints one JSON object per
// file on standard output: {file, warnings, lint: [{rule, id, message, category}], render:
// {errors, shot, shapes}}.
import { readFile, mkdir } from 'node:fs/promises';
import { basename, join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { BpmnModdle } from 'bpmn-moddle';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const { Linter } = require('bpmnlint');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let out = 'bpmn-shots';
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') out = args[++i];
  else files.push(args[i]);
}
await mkdir(out, { recursive: true });

// A linter per file: some rules keep state across the files one linter checks.
const newLinter = () => new Linter({
  config: { extends: 'bpmnlint:recommended' },
  resolver: new NodeResolver()
});

const browser = await chromium.launch({
  executablePath: process.env.REGLAMENT_CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage'
  ]
});
const viewer = join(here, 'node_modules/bpmn-js/dist/bpmn-viewer.production.min.js');
const viewerCss = join(here, 'node_modules/bpmn-js/dist/assets/bpmn-js.css');

for (const file of files) {
  const xml = await readFile(file, 'utf8');
  const result = { file, warnings: [], lint: [], render: { errors: [], shot: null, shapes: 0 } };
  try {
    const moddle = new BpmnModdle();
    const { rootElement, warnings } = await moddle.fromXML(xml, 'bpmn:Definitions');
    result.warnings = warnings.map(w => String(w.message));
    const reports = await newLinter().lint(rootElement);
    for (const [rule, list] of Object.entries(reports)) {
      for (const r of list) {
        result.lint.push({ rule, id: r.id, message: r.message, category: r.category });
      }
    }
  } catch (e) {
    result.warnings.push('fromXML failed: ' + e.message);
  }

  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('console', m => { if (m.type() === 'error') result.render.errors.push(m.text()); });
  page.on('pageerror', e => result.render.errors.push(String(e)));
  await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head>' +
    '<body style="margin:0"><div id="canvas" style="width:1600px;height:1000px"></div></body></html>');
  await page.addStyleTag({ path: viewerCss });
  await page.addScriptTag({ path: viewer });
  const rendered = await page.evaluate(async (xml) => {
    const viewer = new BpmnJS({ container: '#canvas' });
    try {
      const { warnings } = await viewer.importXML(xml);
      viewer.get('canvas').zoom('fit-viewport');
      const shapes = viewer.get('elementRegistry').filter(e => !e.waypoints).length;
      return { warnings: warnings.map(w => String(w.message)), shapes };
    } catch (e) {
      return { error: String(e.message), warnings: (e.warnings || []).map(w => String(w.message)) };
    }
  }, xml);
  if (rendered.error) result.render.errors.push('importXML: ' + rendered.error);
  for (const w of rendered.warnings || []) result.render.errors.push('import warning: ' + w);
  result.render.shapes = rendered.shapes || 0;
  const shot = join(out, basename(file).replace(/\.bpmn$/, '') + '.png');
  await page.screenshot({ path: shot, fullPage: true });
  result.render.shot = shot;
  await page.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}
await browser.close();

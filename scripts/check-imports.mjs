// The import boundaries of docs/architecture.md, checked over the source (not the tests): no app imports another
// app (apps/peakwatch, the command line that composes them into processes, excepted), no library imports an app, and
// no import circle between files. Prints the import graph's figures with --stats. Exit 1 on a violation.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The tree checked: the repository's, or another's with --root DIR (the spec checks a tree built to break a rule). */
const rootArg = process.argv.indexOf('--root');
const ROOT =
  rootArg > 0 ? resolve(process.argv[rootArg + 1]) : resolve(dirname(fileURLToPath(import.meta.url)), '..');
const APPS = ['ingest', 'analytics', 'alerts', 'reports', 'api', 'peakwatch'];
/** The composition root: it runs the apps, so it imports their entry points. */
const COMPOSITION_ROOT = 'apps/peakwatch/';

const packageDir = (name) => {
  if (APPS.includes(name)) return `apps/${name}/src`;
  if (name === 'device-sim') return 'device-sim/src';
  return `libs/${name}/src`;
};

function sources(dir) {
  const out = [];
  if (!existsSync(join(ROOT, dir))) return out;
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function resolveFile(base) {
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')])
    if (existsSync(join(ROOT, candidate))) return candidate;
  return undefined;
}

const files = ['apps', 'libs', 'device-sim/src'].flatMap(sources);
const edges = new Map();
const problems = [];
let crossApp = 0;
for (const file of files) {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const targets = [];
  // static imports and re-exports; a type-only import is still a dependency of the code's design
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'([^']+)'/g)) {
    const spec = m[1];
    let target;
    if (spec.startsWith('.')) target = resolveFile(relative(ROOT, resolve(ROOT, dirname(file), spec)));
    else if (spec.startsWith('@peakwatch/')) {
      const name = spec.slice('@peakwatch/'.length);
      target = resolveFile(packageDir(name));
      const fromApp = /^apps\/([^/]+)\//.exec(file)?.[1];
      if (APPS.includes(name) && name !== fromApp) {
        if (!fromApp) problems.push(`${file} imports the app ${spec}: a library never does`);
        else if (!file.startsWith(COMPOSITION_ROOT)) {
          crossApp++;
          problems.push(`${file} imports the app ${spec}: move what it needs to a library`);
        }
      }
    }
    if (target) targets.push(target);
  }
  edges.set(file, targets);
}

// import circles: strongly connected components of more than one file (Tarjan)
let index = 0;
const stack = [];
const info = new Map();
const circles = [];
function visit(v) {
  info.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of edges.get(v) ?? []) {
    if (!info.has(w)) {
      visit(w);
      info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
    } else if (info.get(w).onStack) info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
  }
  if (info.get(v).low === info.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      info.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) circles.push(component.sort());
  }
}
for (const file of files) if (!info.has(file)) visit(file);
for (const circle of circles) problems.push(`import circle: ${circle.join(' <-> ')}`);

if (process.argv.includes('--stats')) {
  const sizes = files
    .map((f) => [f, readFileSync(join(ROOT, f), 'utf8').split('\n').length])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  console.log(
    JSON.stringify(
      { files: files.length, crossAppImports: crossApp, circles: circles.length, largestFiles: sizes },
      null,
      2,
    ),
  );
}
for (const p of problems) console.error(p);
process.exit(problems.length > 0 ? 1 : 0);

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The boundaries `npm run lint` enforces (docs/architecture.md, "Parts and what they may import"), checked on small
// trees built to break each one: the script must refuse each, naming the file, and pass the tree that breaks none.
const script = join(__dirname, '../../scripts/check-imports.mjs');

function check(files: Record<string, string>): { status: number; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), 'pw-imports-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    execFileSync(process.execPath, [script, '--root', root], { stdio: 'pipe' });
    return { status: 0, stderr: '' };
  } catch (error) {
    const e = error as { status: number; stderr: Buffer };
    return { status: e.status, stderr: e.stderr.toString() };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const lib = { 'libs/metering/src/index.ts': 'export const x = 1;\n' };

describe('scripts/check-imports.mjs', () => {
  it('passes apps that import libraries, and the command line that composes the apps', () => {
    expect(
      check({
        ...lib,
        'apps/alerts/src/index.ts': "import { x } from '@peakwatch/metering';\nexport const y = x;\n",
        'apps/peakwatch/src/all-apps.ts': "import { y } from '@peakwatch/alerts';\nexport const z = y;\n",
      }),
    ).toEqual({ status: 0, stderr: '' });
  });

  it('refuses an app importing another app', () => {
    const { status, stderr } = check({
      'apps/analytics/src/index.ts': 'export const x = 1;\n',
      'apps/alerts/src/reader.ts': "import { x } from '@peakwatch/analytics';\nexport const y = x;\n",
    });
    expect(status).toBe(1);
    expect(stderr).toContain('apps/alerts/src/reader.ts imports the app @peakwatch/analytics');
  });

  it('refuses a library importing an app, even for a type', () => {
    const { status, stderr } = check({
      'apps/reports/src/index.ts': 'export type R = number;\n',
      'libs/metering/src/index.ts': "import type { R } from '@peakwatch/reports';\nexport const x: R = 1;\n",
    });
    expect(status).toBe(1);
    expect(stderr).toContain(
      'libs/metering/src/index.ts imports the app @peakwatch/reports: a library never does',
    );
  });

  it('refuses an import circle of three files', () => {
    const { status, stderr } = check({
      'libs/metering/src/a.ts': "import { c } from './c';\nexport const a = c;\n",
      'libs/metering/src/b.ts': "import { a } from './a';\nexport const b = a;\n",
      'libs/metering/src/c.ts': "import type { b } from './b';\nexport const c = 1 as typeof b;\n",
    });
    expect(status).toBe(1);
    expect(stderr).toContain(
      'import circle: libs/metering/src/a.ts <-> libs/metering/src/b.ts <-> libs/metering/src/c.ts',
    );
  });
});

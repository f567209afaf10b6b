import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/build';

interface LockPackage {
  optionalDependencies?: Record<string, string>;
  os?: string[];
}

/**
 * `npm ci` (CI systems, Dockerfiles) installs exactly the lock and refuses one that lacks a package some platform
 * needs. npm 11 on Linux once wrote locks without the macOS and Windows builds of optional native packages; this
 * checks that every optional dependency of every locked package has its own entry, whatever platform wrote the lock.
 */
describe('package-lock.json', () => {
  const { packages } = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockPackage>;
  };
  /** Where node would find `dep` from the package at `path`: its own node_modules, then each parent's. */
  const resolved = (path: string, dep: string): boolean => {
    for (let base = path; ;) {
      if (packages[`${base ? `${base}/` : ''}node_modules/${dep}`]) return true;
      if (!base) return false;
      const parent = base.lastIndexOf('/node_modules/');
      base = parent < 0 ? '' : base.slice(0, parent);
    }
  };

  it("holds every platform's optional packages", () => {
    const missing = Object.entries(packages).flatMap(([path, p]) =>
      Object.keys(p.optionalDependencies ?? {})
        .filter((dep) => !resolved(path, dep))
        .map((dep) => `${path || '(root)'} → ${dep}`),
    );
    expect(missing).toEqual([]);
  });

  it('holds builds for Linux, macOS and Windows of the native packages that have them', () => {
    const platforms = new Set(Object.values(packages).flatMap((p) => p.os ?? []));
    expect([...platforms]).toEqual(expect.arrayContaining(['linux', 'darwin', 'win32']));
  });
});

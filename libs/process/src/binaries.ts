import { PeakWatchError } from '@peakwatch/contracts';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program PeakWatch runs (influxd, mosquitto) is not installed; the message says how to install it. */
export class MissingBinaryError extends PeakWatchError {
  readonly code = 'missing_binary';
  constructor(
    readonly binary: string,
    readonly debianPackage: string,
  ) {
    super(
      `${binary} was not found on PATH or in /usr/sbin, /usr/local/sbin, /usr/lib/postgresql/*/bin. ` +
        `Install it with: sudo apt-get install -y ${debianPackage}`,
    );
    this.name = 'MissingBinaryError';
  }
}

/** Debian packages of the servers PeakWatch starts itself (demo, tests). */
export const SERVER_BINARIES = {
  influxd: 'influxdb',
  mosquitto: 'mosquitto',
  postgres: 'postgresql',
  initdb: 'postgresql',
} as const;

export type ServerBinary = keyof typeof SERVER_BINARIES;

// Debian installs daemons in sbin, which is not on a normal user's PATH, and PostgreSQL's in a directory per version.
function extraDirs(): string[] {
  let postgres: string[] = [];
  try {
    postgres = readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(b) - Number(a))
      .map((version) => `/usr/lib/postgresql/${version}/bin`);
  } catch {
    // PostgreSQL is not installed
  }
  return ['/usr/sbin', '/usr/local/sbin', '/sbin', ...postgres];
}

/** Returns the absolute path of an executable, or undefined. */
export function whichBinary(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), ...extraDirs()]) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Returns the absolute path of a server binary or throws {@link MissingBinaryError} with the install command. */
export function requireBinary(name: ServerBinary): string {
  const found = whichBinary(name);
  if (!found) throw new MissingBinaryError(name, SERVER_BINARIES[name]);
  return found;
}

import { Injectable } from '@nestjs/common';

/** A readiness check: resolves true when the dependency it covers can be used. */
export type HealthCheck = () => Promise<boolean>;

export interface HealthReport {
  status: 'ok' | 'degraded';
  apps: string[];
  checks: Record<string, 'up' | 'down'>;
}

/** Time one check may take before it counts as down (ms). */
const CHECK_TIMEOUT_MS = 2_000;

/** Named readiness checks contributed by the modules of this process (state store, InfluxDB, broker, ...). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private apps: string[] = [];

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  setApps(apps: string[]): void {
    this.apps = apps;
  }

  /** Names of the apps this process runs. */
  get appNames(): readonly string[] {
    return this.apps;
  }

  async report(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        const up = await Promise.race([
          check().catch(() => false),
          new Promise<false>((resolve) => setTimeout(resolve, CHECK_TIMEOUT_MS, false).unref()),
        ]);
        return [name, up ? 'up' : 'down'] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    return {
      status: entries.every(([, s]) => s === 'up') ? 'ok' : 'degraded',
      apps: this.apps,
      checks,
    };
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { besideRunningDemo, publishDemo, runningDemo, unpublishDemo } from './running-demo';

describe('the commands beside a running demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'peakwatch-running-demo-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const demo = {
    pid: process.pid, // alive: this process
    influxUrl: 'http://127.0.0.1:18086',
  };

  it("take the demo's InfluxDB when INFLUX_URL is not set, and their own otherwise", () => {
    publishDemo(dataDir, demo);
    expect(besideRunningDemo({ DATA_DIR: dataDir })['INFLUX_URL']).toBe('http://127.0.0.1:18086');
    expect(besideRunningDemo({ DATA_DIR: dataDir, INFLUX_URL: 'http://db:8086' })['INFLUX_URL']).toBe(
      'http://db:8086',
    );
    unpublishDemo(dataDir);
    expect(besideRunningDemo({ DATA_DIR: dataDir })['INFLUX_URL']).toBeUndefined();
  });

  it('ignore a demo that died, and a file that does not point at loopback', () => {
    publishDemo(dataDir, { ...demo, pid: 2 ** 22 + 1 }); // above Linux's largest pid
    expect(runningDemo({ DATA_DIR: dataDir })).toBeUndefined();
    publishDemo(dataDir, { ...demo, influxUrl: 'http://attacker.example:8086' });
    expect(runningDemo({ DATA_DIR: dataDir })).toBeUndefined();
    unpublishDemo(dataDir);
  });
});

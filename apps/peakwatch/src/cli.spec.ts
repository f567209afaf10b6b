import { runCli } from './cli';

/** Runs the CLI in-process with a given environment; returns its exit code and what it wrote. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const saved = process.env;
  process.env = env;
  let stdout = '';
  let stderr = '';
  const out = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await runCli(['node', 'peakwatch', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = saved;
  }
}

describe('peakwatch command line', () => {
  it('prints help with exit code 0', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: peakwatch');
    expect(stdout).toMatch(/start\s+run every app in one process/);
    expect(stdout).toMatch(/demo\s+start a private influxd/);
  });

  it('has --help on each subcommand', async () => {
    const { code, stdout } = await cli(['demo', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: peakwatch demo');
  });

  it.each([[['bogus']], [['start', '--bogus']], [[]]])('exits 2 on bad usage %j', async (args) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).not.toBe('');
  });

  it('start exits 1 and lists every bad key when the environment is invalid', async () => {
    const { code, stderr } = await cli(['start'], { MQTT_PORT: '99999', LOG_LEVEL: 'chatty' });
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid configuration (3 problems)');
    expect(stderr).toContain('MQTT_PORT="99999"');
    expect(stderr).toContain('INFLUX_URL is required');
    expect(stderr).toContain('LOG_LEVEL="chatty"');
  });

  it('demo refuses an InfluxDB that is not its own, with exit code 2', async () => {
    const { code, stderr } = await cli(['demo'], { INFLUX_URL: 'https://influx.example:8086' });
    expect(code).toBe(2);
    expect(stderr).toContain('demo runs its own influxd on loopback');
  });
});

/**
 * Runs the command line in this process (`run`: apps/peakwatch `runCli`) with `env` as the whole environment, and
 * returns its exit code and what it wrote to stdout and stderr.
 */
export async function cliInProcess(
  run: (argv: string[]) => Promise<number | undefined>,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
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
    const code = await run(['node', 'peakwatch', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = saved;
  }
}

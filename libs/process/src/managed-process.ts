import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** util-linux's setpriv: with --pdeathsig the kernel kills the server when the process that started it dies. */
const SETPRIV = '/usr/bin/setpriv';

export interface ManagedProcessOptions {
  /** Short name for messages, e.g. "influxd". */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Polled until it resolves true; the process is then considered up. */
  ready: () => Promise<boolean>;
  /** How long to wait for `ready` (ms, default 30 000). */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL (ms, default 10 000). */
  stopTimeoutMs?: number;
  /** Run as this user when started as root (PostgreSQL refuses root); the parent-death signal is kept. */
  user?: string;
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;
const OUTPUT_TAIL_LINES = 40;

/** Every managed process still running in this Node process, killed synchronously if Node exits first. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => ManagedProcess.killAll());
}

/**
 * A server process that PeakWatch starts and owns (the demo's influxd, the tests' influxd and mosquitto).
 *
 * It never outlives its owner: it is killed on `stop()`, on Node's `exit`, and, when Node itself is killed
 * (SIGKILL, an interrupted test run), by the kernel through PR_SET_PDEATHSIG set with setpriv(1).
 */
export class ManagedProcess {
  private readonly tail: string[] = [];
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly stopTimeoutMs: number,
  ) {
    live.add(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.exitCode = code ?? (signal ? null : 0);
        resolve(code);
      });
    });
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.tail.push(line);
        if (this.tail.length > OUTPUT_TAIL_LINES) this.tail.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** Kills every managed process of this Node process at once (SIGKILL), e.g. when its owner has gone. */
  static killAll(): void {
    for (const child of live) child.kill('SIGKILL');
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines the process printed, for error messages. */
  get output(): string {
    return this.tail.join('\n');
  }

  /** Spawns the process and waits until `ready()` answers true; on failure it is killed and the error says why. */
  static async start(options: ManagedProcessOptions): Promise<ManagedProcess> {
    installExitHook();
    const useSetpriv = process.platform === 'linux' && existsSync(SETPRIV);
    // setpriv changes the user first and sets the parent-death signal last, so the signal survives the change.
    const asUser =
      options.user && process.getuid?.() === 0
        ? [`--reuid=${options.user}`, `--regid=${options.user}`, '--init-groups']
        : [];
    const [command, args] = useSetpriv
      ? [SETPRIV, [...asUser, '--pdeathsig', 'KILL', '--', options.command, ...options.args]]
      : [options.command, [...options.args]];
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that a terminal's Ctrl-C (SIGINT to the foreground group) reaches only us and we
      // stop the server last, once what we hold is written to it (the demo drains its spool into its influxd). Only
      // where the kernel kills it with us (setpriv): elsewhere it stays in our group, so that it cannot outlive us.
      detached: useSetpriv,
    });
    const managed = new ManagedProcess(options.name, child, options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

    const deadline = Date.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    for (;;) {
      const failure = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
      if (failure)
        throw new Error(`${options.name} could not be started (${options.command}): ${failure.message}`);
      if (!managed.running) {
        throw new Error(
          `${options.name} exited with code ${managed.exitCode} before it was ready:\n${managed.output}`,
        );
      }
      if (await options.ready().catch(() => false)) return managed;
      if (Date.now() > deadline) {
        await managed.stop();
        throw new Error(`${options.name} did not become ready in time:\n${managed.output}`);
      }
      await sleep(READY_POLL_MS);
    }
  }

  /** SIGTERM, then SIGKILL after the stop timeout. Resolves once the process has exited. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      sleep(this.stopTimeoutMs, true, { ref: false }),
    ]);
    if (timedOut) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

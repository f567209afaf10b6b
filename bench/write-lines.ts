import { Progress } from '@peakwatch/runtime';

/**
 * Line protocol posted to influxd's /write in 10,000-line batches: a bench's set-up, not what it measures. Its
 * progress (lines written of `total`) on standard error.
 */
export class LineBatches {
  written = 0;
  private batch: string[] = [];
  private readonly progress: Progress;

  constructor(
    private readonly url: string,
    private readonly database: string,
    label: string,
    total: number,
  ) {
    this.progress = new Progress(label, 'lines', { total });
  }

  async add(line: string): Promise<void> {
    this.batch.push(line);
    if (this.batch.length === 10_000) await this.post();
  }

  /** Posts what is left; returns every line written. */
  async close(): Promise<number> {
    if (this.batch.length > 0) await this.post();
    this.progress.finish(this.written);
    return this.written;
  }

  private async post(): Promise<void> {
    const response = await fetch(`${this.url}/write?db=${this.database}&precision=ms`, {
      method: 'POST',
      body: this.batch.join('\n'),
    });
    if (response.status !== 204) throw new Error(`write failed: ${response.status} ${await response.text()}`);
    this.written += this.batch.length;
    this.batch = [];
    this.progress.update(this.written);
  }
}

/** Line protocol posted to influxd's /write in 10,000-line batches: a bench's set-up, not what it measures. */
export class LineBatches {
  written = 0;
  private batch: string[] = [];

  constructor(
    private readonly url: string,
    private readonly database: string,
  ) {}

  async add(line: string): Promise<void> {
    this.batch.push(line);
    if (this.batch.length === 10_000) await this.post();
  }

  /** Posts what is left; returns every line written. */
  async close(): Promise<number> {
    if (this.batch.length > 0) await this.post();
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
  }
}

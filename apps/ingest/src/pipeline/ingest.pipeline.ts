import { Injectable, Logger } from '@nestjs/common';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { LATE_AFTER_MS, MEASUREMENTS } from '@peakwatch/contracts';
import { Registry } from '@peakwatch/registry';
import { Clock, LiveEvents } from '@peakwatch/runtime';
import { IngestMetrics } from '../metrics/ingest.metrics';
import type { AppendCallback } from '../spool/spool';
import { SpoolService } from '../spool/spool.service';
import { intField, line, stringField } from '@peakwatch/influx';
import type { RejectReason } from './reject-reason';
import { validateMessage, type Rejection, type ValidationResult } from './validate';

/** Longest excerpt of a rejected payload kept in `ingest_reject` (characters). */
export const REJECT_EXCERPT_CHARS = 200;

/**
 * Records of rejections a device (or the unknown sender of a topic without one) may add to `ingest_reject`: a burst of
 * REJECT_RECORD_BURST, then REJECT_RECORDS_PER_MINUTE. Beyond it rejections are still counted
 * (`peakwatch_ingest_rejected_total`, `peakwatch_ingest_rejects_unrecorded_total`), but not written: one device's
 * bad messages cannot fill the spool and stop the acknowledgements of every other device (docs/security.md).
 */
export const REJECT_RECORD_BURST = 100;
export const REJECT_RECORDS_PER_MINUTE = 60;

/**
 * One message from the broker to the spool: validate, turn into line protocol (readings and rejections alike), and
 * call back once it is durable, so that the caller may acknowledge it. Never fails for bad input.
 */
@Injectable()
export class IngestPipeline {
  private readonly logger = new Logger(IngestPipeline.name);
  /** Last timestamp given to a rejection record: each gets its own millisecond so none overwrites another. */
  private lastRejectTs = 0;
  /** Last timestamp given to each device's late-data mark, likewise. */
  private readonly lastLateTs = new Map<string, number>();
  /** Each sender's budget of rejection records (a token bucket): tokens left and when last refilled. */
  private readonly recordBudget = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: Registry,
    private readonly spool: SpoolService,
    private readonly metrics: IngestMetrics,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
  ) {}

  /** Handles one message; `done` is called once it is durable (or with the error that kept it from the spool). */
  handle(topic: string, payload: Buffer, done: AppendCallback): void {
    const nowMs = this.clock.now();
    this.metrics.messagesReceived.inc();
    const result = validateMessage({ topic, payload, nowMs }, this.registry, this.config.ingest);
    const lines = result.lines;
    lines.push(...this.rejectLines(result.rejections, topic, payload, nowMs));
    // Spooled with the readings, so the mark is stored if and only if they are.
    if (result.span && nowMs - result.span.earliestMs > LATE_AFTER_MS)
      lines.push(this.lateLine(result.span, result.accepted, nowMs));
    if (result.accepted > 0) this.metrics.readingsReceived.inc(result.accepted);
    if (lines.length > 0) this.spool.append(lines.length === 1 ? lines[0]! : lines.join('\n'), done);
    else done();
    const span = result.span;
    if (span && topic.endsWith('/telemetry') && this.live.listening(span.siteId)) {
      // Only when a stream listens: parsing again is cheaper than keeping every message's readings. Only the
      // readings stored are streamed, never a refused one.
      const body = JSON.parse(payload.toString('utf8')) as unknown;
      const refused = new Set(result.rejections.map((r) => r.readingIndex));
      this.live.emit({
        type: 'reading',
        siteId: span.siteId,
        data: {
          deviceId: span.deviceId,
          readings: (Array.isArray(body) ? body : [body]).filter((_, i) => !refused.has(i)),
        },
      });
    }
  }

  /**
   * Records a refusal decided elsewhere (the broker's ACL) of a message `sender` (its username) sent, as durably as a
   * rejection found here.
   */
  refuse(
    reason: RejectReason,
    topic: string,
    detail: string,
    payload: Buffer,
    done: AppendCallback,
    sender?: string,
  ): void {
    const nowMs = this.clock.now();
    const lines = this.rejectLines([{ reason, detail, topic: undefined }], topic, payload, nowMs, sender);
    if (lines.length > 0) this.spool.append(lines[0]!, done);
    else done();
  }

  /**
   * The `ingest_reject` records of one message's rejections: one per reason, its `count` the rejections of that
   * reason, its detail the first one's, the payload's excerpt on the first record only; none once the sender is over
   * its budget (REJECT_RECORD_BURST). Every rejection is counted by reason.
   */
  private rejectLines(
    rejections: readonly Rejection[],
    topic: string,
    payload: Buffer,
    nowMs: number,
    sender?: string,
  ): string[] {
    if (rejections.length === 0) return [];
    const byReason = new Map<RejectReason, { first: Rejection; count: number }>();
    for (const r of rejections) {
      const entry = byReason.get(r.reason);
      if (entry) entry.count++;
      else byReason.set(r.reason, { first: r, count: 1 });
    }
    // a registered device's own budget; one shared by every sender the registry does not know (bounded keys)
    const deviceId = sender ?? rejections[0]!.topic?.deviceId;
    const key = deviceId !== undefined && this.registry.device(deviceId) ? deviceId : '';
    const lines: string[] = [];
    for (const { first, count } of byReason.values()) {
      this.metrics.rejected.inc({ reason: first.reason }, count);
      if (!this.takeRecord(key, nowMs)) {
        this.metrics.rejectsUnrecorded.inc({ reason: first.reason }, count);
        continue;
      }
      lines.push(this.rejectLine(first, count, topic, lines.length === 0 ? payload : undefined, nowMs));
    }
    return lines;
  }

  private takeRecord(sender: string, nowMs: number): boolean {
    const budget = this.recordBudget.get(sender) ?? { tokens: REJECT_RECORD_BURST, atMs: nowMs };
    budget.tokens = Math.min(
      REJECT_RECORD_BURST,
      budget.tokens + ((nowMs - budget.atMs) * REJECT_RECORDS_PER_MINUTE) / 60_000,
    );
    budget.atMs = nowMs;
    this.recordBudget.set(sender, budget);
    if (budget.tokens < 1) return false;
    budget.tokens--;
    return true;
  }

  private lateLine(span: NonNullable<ValidationResult['span']>, readings: number, nowMs: number): string {
    const ts = Math.max(nowMs, (this.lastLateTs.get(span.deviceId) ?? 0) + 1);
    this.lastLateTs.set(span.deviceId, ts);
    return line(
      MEASUREMENTS.ingestLate,
      { site: span.siteId, device: span.deviceId },
      {
        earliest_ms: intField(span.earliestMs),
        latest_ms: intField(span.latestMs),
        readings: intField(readings),
      },
      ts,
    );
  }

  private rejectLine(
    rejection: Rejection,
    count: number,
    topic: string,
    payload: Buffer | undefined,
    nowMs: number,
  ): string {
    this.logger.debug({ reason: rejection.reason, topic, detail: rejection.detail, count }, 'rejected');
    this.lastRejectTs = Math.max(nowMs, this.lastRejectTs + 1);
    const excerpt = (payload ?? Buffer.alloc(0))
      .subarray(0, REJECT_EXCERPT_CHARS * 4)
      .toString('utf8')
      .slice(0, REJECT_EXCERPT_CHARS);
    return line(
      MEASUREMENTS.ingestReject,
      { reason: rejection.reason, site: rejection.topic?.siteId, device: rejection.topic?.deviceId },
      {
        topic: stringField(topic.slice(0, 256)),
        detail: stringField(
          (count > 1 ? `${rejection.detail.slice(0, 200)} (and ${count - 1} more)` : rejection.detail).slice(
            0,
            256,
          ),
        ),
        excerpt: stringField(excerpt),
        count: intField(count),
      },
      this.lastRejectTs,
    );
  }
}

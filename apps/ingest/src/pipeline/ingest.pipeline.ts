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
    for (const rejection of result.rejections) lines.push(this.rejectLine(rejection, topic, payload, nowMs));
    // Spooled with the readings, so the mark is stored if and only if they are.
    if (result.span && nowMs - result.span.earliestMs > LATE_AFTER_MS)
      lines.push(this.lateLine(result.span, result.accepted, nowMs));
    if (result.accepted > 0) this.metrics.readingsReceived.inc(result.accepted);
    if (lines.length > 0) this.spool.append(lines.length === 1 ? lines[0]! : lines.join('\n'), done);
    else done();
    const span = result.span;
    if (span && topic.endsWith('/telemetry') && this.live.listening(span.siteId)) {
      // Only when a stream listens: parsing again is cheaper than keeping every message's readings.
      const body = JSON.parse(payload.toString('utf8')) as unknown;
      this.live.emit({
        type: 'reading',
        siteId: span.siteId,
        data: { deviceId: span.deviceId, readings: Array.isArray(body) ? body : [body] },
      });
    }
  }

  /** Records a refusal decided elsewhere (the broker's ACL), as durably as a rejection found here. */
  refuse(reason: RejectReason, topic: string, detail: string, payload: Buffer, done: AppendCallback): void {
    const nowMs = this.clock.now();
    this.spool.append(this.rejectLine({ reason, detail, topic: undefined }, topic, payload, nowMs), done);
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

  private rejectLine(rejection: Rejection, topic: string, payload: Buffer, nowMs: number): string {
    this.metrics.rejected.inc({ reason: rejection.reason });
    this.logger.debug({ reason: rejection.reason, topic, detail: rejection.detail }, 'rejected');
    this.lastRejectTs = Math.max(nowMs, this.lastRejectTs + 1);
    const excerpt = payload
      .subarray(0, REJECT_EXCERPT_CHARS * 4)
      .toString('utf8')
      .slice(0, REJECT_EXCERPT_CHARS);
    return line(
      MEASUREMENTS.ingestReject,
      { reason: rejection.reason, site: rejection.topic?.siteId, device: rejection.topic?.deviceId },
      {
        topic: stringField(topic.slice(0, 256)),
        detail: stringField(rejection.detail.slice(0, 256)),
        excerpt: stringField(excerpt),
        count: intField(1),
      },
      this.lastRejectTs,
    );
  }
}

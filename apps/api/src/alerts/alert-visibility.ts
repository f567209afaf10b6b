import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { loadAlertRules } from '@peakwatch/policy';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { PolicyData } from '@peakwatch/policy';
import type { Principal } from '../auth/api-keys.repository';

/**
 * Which alerts a caller may see, beyond the scope of their sites: a regulator sees the alerts whose rule has regulators
 * in its audience (never the data-quality ones); the other roles see every alert of their sites. The REST API and the
 * live stream ask the same question.
 */
@Injectable()
export class AlertVisibility {
  private regulatorRules: Set<string> | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly policy: PolicyData,
  ) {}

  visible(caller: Principal, ruleId: string): boolean {
    if (caller.role !== 'regulator') return true;
    this.regulatorRules ??= new Set(
      loadAlertRules(join(this.config.seedsDir, 'alert-rules'), this.policy)
        .filter((r) => r.audience.includes('regulator'))
        .map((r) => r.id),
    );
    return this.regulatorRules.has(ruleId);
  }
}

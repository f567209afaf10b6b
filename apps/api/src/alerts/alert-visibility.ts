import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { loadAlertRules, type AlertRule } from '@peakwatch/policy';
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
  private regulatorRuleIds: Set<string> | undefined;
  private rules: AlertRule[] | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly policy: PolicyData,
  ) {}

  visible(caller: Principal, ruleId: string): boolean {
    if (caller.role !== 'regulator') return true;
    this.regulatorRuleIds ??= new Set(this.regulatorRules().map((r) => r.id));
    return this.regulatorRuleIds.has(ruleId);
  }

  /** The rules with regulators in their audience (the policy thresholds a district is held to). */
  regulatorRules(): AlertRule[] {
    this.rules ??= loadAlertRules(join(this.config.seedsDir, 'alert-rules'), this.policy).filter((r) =>
      r.audience.includes('regulator'),
    );
    return this.rules;
  }
}

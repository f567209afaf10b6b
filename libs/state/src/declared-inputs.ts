import { ID_CHARS, ID_PATTERN } from '@peakwatch/contracts';
import { KWH_PER_CERTIFICATE } from '@peakwatch/domain';
import { z } from 'zod';
import type { StateStore } from './state-store';

/** Evidence ids: what a verifier looks the purchase up by (a certificate serial, a contract number). */
const EVIDENCE_ID = /^[\p{L}\p{N}][\p{L}\p{N} ._:/#()-]{0,127}$/u;

/** One green-power purchase (docs/domain.md, "Green power"); a certificate is a whole MWh. */
export const greenPowerSchema = z
  .object({
    /** 绿证 (green electricity certificates) or 绿电交易 (a green-power contract). */
    kind: z.enum(['certificate', 'contract']),
    /** Electricity it stands for (MWh; a certificate is 1 MWh). */
    mwh: z.number().positive().max(10_000_000),
    evidenceId: z.string().regex(EVIDENCE_ID, 'must be 1-128 letters, digits, spaces or . _ : / # ( ) -'),
    /** The site it is for; none: the organisation's, shared among its sites by their net grid purchase. */
    siteId: z.string().regex(ID_PATTERN, `must match ${ID_CHARS}`).optional(),
  })
  .strict()
  .refine((g) => g.kind !== 'certificate' || Number.isInteger(g.mwh), {
    message: 'certificates are whole MWh (1 MWh each)',
    path: ['mwh'],
  });
export type GreenPower = z.infer<typeof greenPowerSchema>;

/**
 * What an organisation declares for a period (YYYY-MM or YYYY) beside its meters (API: PUT
 * /api/v1/reports/{org}/{period}/inputs): green power bought, heat bought for sites without a heat meter, its output.
 */
export const declaredInputsSchema = z
  .object({
    /** Green electricity certificates (绿证) surrendered for the period, without evidence ids (KWH_PER_CERTIFICATE each). */
    greenCertificates: z.number().int().nonnegative().max(10_000_000).optional(),
    /** Green power bought for the period, each with its evidence (an empty list declares none). */
    greenPower: z
      .array(greenPowerSchema)
      .max(200)
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((g, i) => {
          const key = `${g.kind}\u0000${g.evidenceId}`;
          if (seen.has(key))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'evidenceId'],
              message: `${g.evidenceId} is declared twice`,
            });
          seen.add(key);
        });
      })
      .optional(),
    /** Heat bought from a district network for sites without a heat meter (kWh). */
    purchasedHeatKwh: z.number().nonnegative().max(1e12).optional(),
    /** The organisation's output, for the intensity per unit of output. */
    output: z
      .object({ quantity: z.number().positive(), unit: z.string().min(1).max(64) })
      .strict()
      .optional(),
  })
  .strict();
export type DeclaredInputs = z.infer<typeof declaredInputsSchema>;

/** Whether the inputs declare the period's green power (an empty list and 0 certificates declare none bought). */
export function declaresGreenPower(inputs: DeclaredInputs): boolean {
  return inputs.greenPower !== undefined || inputs.greenCertificates !== undefined;
}

/** The green electricity the inputs declare, kWh: for one site, or for the organisation (`siteId` undefined). */
export function greenPowerKwh(inputs: DeclaredInputs, siteId?: string): number {
  const certificates = siteId === undefined ? (inputs.greenCertificates ?? 0) * KWH_PER_CERTIFICATE : 0;
  return (
    certificates +
    (inputs.greenPower ?? []).filter((g) => g.siteId === siteId).reduce((kwh, g) => kwh + g.mwh * 1000, 0)
  );
}

/**
 * The inputs of an annual report: the year's own and its months' (green power bought and heat add up; the output is
 * the year's).
 */
export function yearInputs(year: DeclaredInputs, months: readonly DeclaredInputs[]): DeclaredInputs {
  const all = [year, ...months];
  const sum = (pick: (i: DeclaredInputs) => number | undefined): number | undefined =>
    all.some((i) => pick(i) !== undefined) ? all.reduce((s, i) => s + (pick(i) ?? 0), 0) : undefined;
  const greenCertificates = sum((i) => i.greenCertificates);
  const purchasedHeatKwh = sum((i) => i.purchasedHeatKwh);
  const declared = all.filter((i) => i.greenPower !== undefined);
  return {
    ...(greenCertificates !== undefined ? { greenCertificates } : {}),
    ...(declared.length > 0 ? { greenPower: declared.flatMap((i) => i.greenPower!) } : {}),
    ...(purchasedHeatKwh !== undefined ? { purchasedHeatKwh } : {}),
    ...(year.output ? { output: year.output } : {}),
  };
}

/** The declared inputs in the state store (table `report_input`), by organisation and period. */
export class DeclaredInputsRepository {
  constructor(private readonly state: StateStore) {}

  /** What the organisation declared for the period; {} when nothing. */
  async get(orgId: string, period: string): Promise<DeclaredInputs> {
    const row = await this.state.db
      .selectFrom('report_input')
      .select('inputs')
      .where('org_id', '=', orgId)
      .where('period', '=', period)
      .executeTakeFirst();
    return row ? (JSON.parse(row.inputs) as DeclaredInputs) : {};
  }

  async set(orgId: string, period: string, inputs: DeclaredInputs, at: string): Promise<void> {
    const values = { inputs: JSON.stringify(inputs), updated_at: at };
    await this.state.db
      .insertInto('report_input')
      .values({ org_id: orgId, period, ...values })
      .onConflict((oc) => oc.columns(['org_id', 'period']).doUpdateSet(values))
      .execute();
  }

  /**
   * Where else a purchase is declared: the organisation and period of another declaration holding the same kind and
   * evidence id (one certificate or contract counts once), or undefined.
   */
  async claimedElsewhere(
    orgId: string,
    period: string,
    purchase: Pick<GreenPower, 'kind' | 'evidenceId'>,
  ): Promise<{ orgId: string; period: string } | undefined> {
    const rows = await this.state.db
      .selectFrom('report_input')
      .select(['org_id', 'period', 'inputs'])
      .execute();
    const other = rows.find(
      (r) =>
        !(r.org_id === orgId && r.period === period) &&
        ((JSON.parse(r.inputs) as DeclaredInputs).greenPower ?? []).some(
          (g) => g.kind === purchase.kind && g.evidenceId === purchase.evidenceId,
        ),
    );
    return other ? { orgId: other.org_id, period: other.period } : undefined;
  }

  /** The declarations changed after `sinceIso` (all of them without it), oldest change first. */
  async changedSince(
    sinceIso: string | undefined,
  ): Promise<{ orgId: string; period: string; updatedAt: string }[]> {
    let query = this.state.db.selectFrom('report_input').select(['org_id', 'period', 'updated_at']);
    if (sinceIso !== undefined) query = query.where('updated_at', '>', sinceIso);
    const rows = await query.orderBy('updated_at').execute();
    return rows.map((r) => ({ orgId: r.org_id, period: r.period, updatedAt: r.updated_at }));
  }

  /** Every declaration for the periods given (YYYY and YYYY-MM labels), of every organisation. */
  async forPeriods(
    periods: readonly string[],
  ): Promise<{ orgId: string; period: string; inputs: DeclaredInputs }[]> {
    if (periods.length === 0) return [];
    const rows = await this.state.db
      .selectFrom('report_input')
      .select(['org_id', 'period', 'inputs'])
      .where('period', 'in', [...periods])
      .execute();
    return rows.map((r) => ({
      orgId: r.org_id,
      period: r.period,
      inputs: JSON.parse(r.inputs) as DeclaredInputs,
    }));
  }
}

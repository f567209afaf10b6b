import { z } from 'zod';
import type { StateStore } from './state-store';

/**
 * What an organisation declares of its carbon-market allowance (配额) for a compliance year (API: PUT
 * /api/v1/reports/{org}/{year}/allowance; docs/reports.md, "Carbon-market position").
 */
export const allowanceSchema = z
  .object({
    /** The allowance allocated for the year, t CO2. */
    allowanceT: z.number().nonnegative().max(1e9),
    /** The carbon price the organisation values a surplus or shortfall at, CNY per t CO2. */
    carbonPriceCnyPerT: z.number().positive().max(100_000).optional(),
    /** Warn the organisation when the projected shortfall exceeds this many t CO2 (0: any shortfall). */
    warnShortfallT: z.number().nonnegative().max(1e9).optional(),
  })
  .strict();
export type AllowanceDeclaration = z.infer<typeof allowanceSchema>;

export interface Allowance extends AllowanceDeclaration {
  version: number;
  declaredBy: string;
  declaredAt: string;
}

/** Allowances in the state store (table `allowance`): a declaration for a year already declared is its next version. */
export class Allowances {
  constructor(private readonly state: StateStore) {}

  async declare(
    orgId: string,
    year: string,
    declaration: AllowanceDeclaration,
    by: string,
    at: string,
  ): Promise<Allowance> {
    return this.state.db.transaction().execute(async (tx) => {
      const latest = await tx
        .selectFrom('allowance')
        .select((eb) => eb.fn.max('version').as('version'))
        .where('org_id', '=', orgId)
        .where('year', '=', year)
        .executeTakeFirst();
      const version = Number(latest?.version ?? 0) + 1;
      await tx
        .insertInto('allowance')
        .values({
          org_id: orgId,
          year,
          version,
          declaration: JSON.stringify(declaration),
          declared_by: by,
          declared_at: at,
        })
        .execute();
      return { ...declaration, version, declaredBy: by, declaredAt: at };
    });
  }

  /** Every declaration for the year, oldest first. */
  async history(orgId: string, year: string): Promise<Allowance[]> {
    const rows = await this.state.db
      .selectFrom('allowance')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('year', '=', year)
      .orderBy('version')
      .execute();
    return rows.map((r) => ({
      ...(JSON.parse(r.declaration) as AllowanceDeclaration),
      version: r.version,
      declaredBy: r.declared_by,
      declaredAt: r.declared_at,
    }));
  }

  /** The year's latest declaration, or undefined. */
  async latest(orgId: string, year: string): Promise<Allowance | undefined> {
    return (await this.history(orgId, year)).at(-1);
  }
}

import type { MetricName } from '@peakwatch/contracts';
import type { GreenPower } from '@peakwatch/state';

/** What a report holds (docs/reports.md): the types the meter read, the figures and the files share. */

export const REPORT_SCHEMA = 'peakwatch-report/1';

/**
 * The layouts of a report version's evidence bundle (docs/reports.md, "Evidence bundle"): 1, a meter's readings and events; 2 adds its down-sampled months
 * (docs/retention.md). A bundle is made in layout 1 unless it holds down-sampled months, so that the reports of
 * periods never down-sampled keep their layout, hash and version.
 */
export const EVIDENCE_LAYOUT = 'peakwatch-evidence/1';
export const EVIDENCE_LAYOUT_DOWNSAMPLED = 'peakwatch-evidence/2';
/** The layout of a bundle of these meters' rows. */
export function evidenceLayout(meters: readonly { downsampled: readonly unknown[] }[]): string {
  return meters.some((m) => m.downsampled.length > 0) ? EVIDENCE_LAYOUT_DOWNSAMPLED : EVIDENCE_LAYOUT;
}
export const EVIDENCE_LAYOUTS_CHECKED: readonly string[] = [EVIDENCE_LAYOUT, EVIDENCE_LAYOUT_DOWNSAMPLED];

export type ReportKind = 'monthly' | 'annual';

/** One meter's register energy over the period, with how complete its readings were. */
export interface MeterLine {
  siteId: string;
  deviceId: string;
  role: string;
  metric: MetricName;
  unit: string;
  quantity: number;
  estimated: boolean;
  readingsReceived: number;
  readingsExpected: number;
  completeness: number;
  /** The import batches among its readings, when any were imported (docs/imports.md). */
  batches?: string[];
}

export interface CarrierLine {
  carrier:
    | 'grid_electricity'
    | 'onsite_pv'
    | 'green_certificates'
    | 'green_power_contracts'
    | 'natural_gas'
    | 'purchased_heat';
  unit: 'kWh' | 'm3';
  quantity: number;
  tce: number;
}

/** The report (JSON schema `peakwatch-report/1`, documented in docs/reports.md). */
export interface Report {
  schema: typeof REPORT_SCHEMA;
  kind: ReportKind;
  organisation: { id: string; name: string; keyEmitter: boolean };
  period: { label: string; from: string; to: string; timeZone: string };
  boundary: { siteId: string; name: string; district: string; type: string; floorAreaM2: number }[];
  energy: {
    carriers: CarrierLine[];
    exportedKwh: number;
    consumedElectricityKwh: number;
    totalTce: number;
    /** The green power declared, each purchase with its evidence (certificates without evidence: `greenCertificates`). */
    greenPower: GreenPower[];
  };
  emissions: {
    directT: number;
    indirectElectricityLocationT: number;
    indirectElectricityMarketT: number;
    heatT: number;
    totalLocationT: number;
    totalMarketT: number;
  };
  intensities: {
    energyKwhPerM2: number | null;
    co2KgPerM2: number | null;
    floorAreaM2: number;
    /** Per unit of the declared output: tce and tonnes CO2 (location-based). */
    perOutput?: { unit: string; quantity: number; tcePerUnit: number; co2TPerUnit: number };
  };
  factors: { id: string; kind: string; year?: number; value: number; unit: string; source: string }[];
  meters: MeterLine[];
  completeness: number;
  gapTreatment: string;
  /**
   * A monthly report's carbon-market position, when the organisation declared an allowance for the year
   * (docs/reports.md, "Carbon-market position"): emissions of the months filed with this one, the projection to the
   * year's end and its method, the surplus (negative: shortfall) in t CO2 and CNY.
   */
  carbonMarket?: {
    allowanceT: number;
    allowanceVersion: number;
    carbonPriceCnyPerT?: number;
    warnShortfallT?: number;
    basis: string;
    monthsFiled: number[];
    toDateT: number;
    projectedT: number | null;
    method: string | null;
    surplusT: number | null;
    surplusCny: number | null;
    warning: boolean;
  };
  /**
   * The evidence bundle the report is computed from: its layout and hash (SHA-256 of its SHA256SUMS, which lists the
   * SHA-256 of each of its files), so a verifier can tie a bundle to the report submitted.
   */
  evidence: { layout: string; sha256: string };
  contentHash: string;
}

/** Rounded to `digits` decimals: quantities are stated to 3 (kWh, m³), tonnes and shares to 4. */
export const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

import { z } from 'zod';
import { ID_CHARS, ID_PATTERN } from '@peakwatch/contracts';

/** The registry (docs/contracts.md, "Registry"): sites and their devices, one site per file in seeds/sites/. */
export const SITE_TYPES = [
  'office',
  'hotel',
  'mall',
  'school',
  'hospital',
  'public_institution',
  'data_centre',
  'industrial',
  'campus',
] as const;
export const DEVICE_KINDS = [
  'electricity_meter',
  'heat_meter',
  'heat_pump',
  'pv_inverter',
  'gas_meter',
  'weather_station',
] as const;
export const DEVICE_ROLES = [
  'grid',
  'dc_total',
  'dc_it',
  'pv',
  'hp',
  'lighting_sockets',
  'hvac',
  'power',
  'special',
  'gas',
  'heat_purchased',
  'weather',
] as const;

/** Sub-metering categories of the MOHURD 2008 guideline (A lighting/sockets, B HVAC, C power, D special). */
export const SUBMETER_ROLES = ['lighting_sockets', 'hvac', 'power', 'special'] as const;

const id = z.string().regex(ID_PATTERN, `must match ${ID_CHARS}`);
const isoDate = z.iso.date('must be a date YYYY-MM-DD');

/** Usernames PeakWatch's own MQTT clients take (e.g. peakwatch-alerts): no device may. */
export const RESERVED_ID_PREFIX = 'peakwatch';

export const deviceSchema = z
  .object({
    id: id.refine((value) => !value.startsWith(RESERVED_ID_PREFIX), {
      message: `must not begin with "${RESERVED_ID_PREFIX}" (the names of PeakWatch's own MQTT clients)`,
    }),
    kind: z.enum(DEVICE_KINDS),
    role: z.enum(DEVICE_ROLES),
    name: z.string().min(1).optional(),
    /** Nameplate maximum import power (kW); bounds plausible register deltas. */
    ratedPowerKw: z.number().positive().optional(),
    /** PV DC nameplate P0 (kWp), IEC 61724-1. */
    peakPowerKwp: z.number().positive().optional(),
    /** The register wraps to 0 at this value (e.g. DL/T 645 XXXXXX.XX wraps at 1,000,000 kWh). */
    registerModulusKwh: z.number().positive().optional(),
    /** Current-transformer ratio (倍率) when the meter reads the secondary side; readings are multiplied by it. */
    ctRatio: z.number().positive().optional(),
    /** Seconds between two readings (default 300): what completeness expects, and what a gap is measured against. */
    readingIntervalSeconds: z
      .number()
      .int()
      .positive()
      .refine((s) => 900 % s === 0, 'must divide 900 (15 minutes)')
      .optional(),
    /**
     * When the meter was taken out of service (RFC 3339 with its offset), the time of its final reading. It stays in
     * the registry so that the windows before keep its energy; nothing is expected of it after, and its readings
     * stamped later are refused (`device_removed`).
     */
    removedAt: z.iso
      .datetime({ offset: true, message: 'must be an RFC 3339 time with its offset' })
      .optional(),
    /**
     * The gateway (data concentrator, protocol converter) it reports through, when it has one: the alerts of devices
     * silent behind one gateway are one incident (docs/incidents.md).
     */
    gateway: id.optional(),
  })
  .strict();

/** Reading interval of a device that does not declare one (seconds). */
export const DEFAULT_READING_INTERVAL_SECONDS = 300;

/** The device's reading interval (ms). */
export function removedAtMs(device: { removedAt?: string | undefined }): number {
  return device.removedAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(device.removedAt);
}

/**
 * The readings a device owes in [startMs, endMs) (startMs on its interval): one per interval, until its removal, whose
 * time is that of its final reading.
 */
export function expectedReadings(
  device: { readingIntervalSeconds?: number | undefined; removedAt?: string | undefined },
  startMs: number,
  endMs: number,
): number {
  const interval = readingIntervalMs(device);
  const removed = removedAtMs(device);
  if (removed >= endMs) return Math.round((endMs - startMs) / interval);
  return removed >= startMs ? Math.floor((removed - startMs) / interval) + 1 : 0;
}

/** The device's reading interval (ms). */
export function readingIntervalMs(device: { readingIntervalSeconds?: number | undefined }): number {
  return (device.readingIntervalSeconds ?? DEFAULT_READING_INTERVAL_SECONDS) * 1000;
}

export const siteSchema = z
  .object({
    id,
    name: z.string().min(1),
    district: id,
    /**
     * The network segment (a district link, a campus network) the site's devices reach PeakWatch through, when
     * declared: the alerts of several sites silent on one segment are one incident (docs/incidents.md).
     */
    segment: id.optional(),
    type: z.enum(SITE_TYPES),
    floorAreaM2: z.number().positive(),
    heatedAreaM2: z.number().positive().optional(),
    commissionedOn: isoDate,
    emitter: z
      .object({
        id,
        name: z.string().min(1),
        /** 重点碳排放单位 (≥5,000 tCO2/a) or a unit using ≥2,000 tce/a: owes monthly and annual reports. */
        keyEmitter: z.boolean(),
      })
      .strict()
      .optional(),
    /**
     * Lower heating value of the natural gas the site's supplier delivers (kJ/m³), where it states one: its coal
     * equivalent and CO2 follow it instead of the defaults (docs/domain.md, "Comprehensive energy").
     */
    gasHeatingValueKjPerM3: z.number().min(20_000).max(60_000).optional(),
    /** Annual electricity quota (用电限额) of a Beijing public building ≥ 3,000 m² (kWh a year). */
    electricityQuotaKwh: z.number().positive().optional(),
    /**
     * The time-of-use tariff the site is billed at (an id of seeds/tariffs: its customer class and voltage level); none:
     * its cost KPIs say "no tariff declared" (docs/domain.md, "Cost and peaks").
     */
    tariff: id.optional(),
    baseline: z
      .object({
        year: z.number().int().min(2000).max(2100),
        /**
         * `declared` (the default): the figures below, as the site states them. `data`: computed by the KPI job from
         * the year's stored readings, imported or live (docs/imports.md, "Baseline from data"); no figure is given.
         */
        source: z.enum(['declared', 'data']).optional(),
        /** Electricity per m² (kWh/m²) of the baseline year. */
        energyKwhPerM2: z.number().positive().optional(),
        /** Comprehensive energy per m² (kgce/m², GB/T 2589) of the baseline year: the Haidian energy target's basis. */
        energyKgcePerM2: z.number().positive().optional(),
        /** CO2 per m² (kg/m²) of the baseline year, at the factors seeded for that year (docs/domain.md, "CO2"). */
        carbonKgPerM2: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    devices: z.array(deviceSchema).min(1),
  })
  .strict()
  .superRefine((site, ctx) => {
    const { baseline } = site;
    if (baseline?.source === 'data')
      for (const figure of ['energyKwhPerM2', 'energyKgcePerM2', 'carbonKgPerM2'] as const)
        if (baseline[figure] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['baseline', figure],
            message: 'a baseline from data takes its figures from the readings of its year: give none',
          });
    const seen = new Set<string>();
    site.devices.forEach((device, i) => {
      if (seen.has(device.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'id'],
          message: `duplicate device id "${device.id}"`,
        });
      }
      seen.add(device.id);
      if (device.role === 'pv' && device.peakPowerKwp === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'peakPowerKwp'],
          message: 'required for role pv',
        });
      }
    });
  });

export type Device = z.infer<typeof deviceSchema>;
export type Site = z.infer<typeof siteSchema>;
export type SiteType = (typeof SITE_TYPES)[number];
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export type DeviceRole = (typeof DEVICE_ROLES)[number];

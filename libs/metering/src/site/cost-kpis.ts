import { averageLoadKw, quarterPrice, type TouBand, type WindowEnergy } from '@peakwatch/domain';
import { MEASURED, type SiteWindow } from './site-window';

const QUARTER_HOURS = 0.25;

/**
 * A window's cost and time-of-use KPIs (docs/domain.md, "Cost and peaks"), of the electricity its supply meters bought
 * (`supply`: grid imports; a data centre's total), each quarter hour priced at the band and price in force on its
 * date: `cost_cny` (and by band, the band the category), the average price, the share of energy in the peak bands
 * (尖峰 and 高峰), and the average load in those hours (the grid's peak hours). A quarter spread over a gap is priced at
 * its own band and makes the cost estimated. A site without a tariff, or a window with energy outside any tariff
 * version, has a `cost_cny` without a value that says so (`noTariff`), never 0; a window without data has none.
 */
export function costKpis(
  { site, factors, utcOffsetMs, orNull, push }: SiteWindow,
  supply: readonly WindowEnergy[][],
): void {
  const versions = site.tariff === undefined ? [] : (factors.tariffs?.versions(site.tariff) ?? []);
  const divisions = factors.tariffs?.divisions ?? [];
  const quarters = supply.flat();
  const known = { known: quarters.length };
  const bands = new Map<TouBand, number>();
  let cost = 0;
  let estimatedCost = 0;
  let magnitude = 0;
  let kwh = 0;
  let peakBandKwh = 0;
  const peakBandQuarters = new Set<number>();
  let unpriced = versions.length === 0;
  for (const q of quarters) {
    const price = quarterPrice({ divisions, versions, startMs: q.startMs, utcOffsetMs });
    if (!price) {
      unpriced = true;
      continue;
    }
    const energy = q.energy ?? 0;
    const cny = energy * price.cnyPerKwh;
    cost += cny;
    magnitude += Math.abs(cny);
    estimatedCost += Math.abs(q.estimatedEnergy * price.cnyPerKwh);
    kwh += energy;
    bands.set(price.band, (bands.get(price.band) ?? 0) + cny);
    if (price.band === 'critical' || price.band === 'peak') {
      peakBandKwh += energy;
      peakBandQuarters.add(q.startMs);
    }
  }
  if (unpriced) {
    push('cost_cny', null, 0, 1, { ...MEASURED, noTariff: true });
    return;
  }
  const basis = {
    estimated: quarters.some((q) => q.estimated),
    estimatedShare: magnitude > 0 ? Math.min(1, estimatedCost / magnitude) : 0,
  };
  push('cost_cny', orNull(cost, known), cost, 1, basis);
  for (const [band, cny] of bands) push('cost_cny', cny, cny, 1, basis, band);
  push('avg_price_cny_kwh', orNull(kwh !== 0 ? cost / kwh : null, known), cost, kwh, basis);
  push('peak_band_share', orNull(kwh !== 0 ? peakBandKwh / kwh : null, known), peakBandKwh, kwh, basis);
  // the supply meters' quarters in the peak bands: each meter's own, the site's hours counted once
  const hours = peakBandQuarters.size * QUARTER_HOURS;
  if (hours > 0)
    push('peak_hours_load_kw', averageLoadKw({ energyKwh: peakBandKwh, hours }), peakBandKwh, hours, basis);
}

import { MS_PER_HOUR, completeness, loadFactor, peakDemand } from '@peakwatch/domain';
import { expectedReadings } from '@peakwatch/registry';
import { costKpis } from './cost-kpis';
import { MEASURED, basisOf, type SiteWindow } from './site-window';

/**
 * The KPIs of a window of every site, whatever its type: its meters' data quality, its peak demand and load factor,
 * and the cost of the electricity it bought (cost-kpis.ts).
 */
export function meterKpis(window: SiteWindow): void {
  const { meters, byRole, startMs, endMs, of, orNull, push } = window;
  // register readings the rules could not explain (a drop that is neither a wrap nor a declared replacement, or an
  // impossible jump): a data-quality signal for the facility manager
  let anomalies = 0;
  let known = 0;
  for (const d of meters)
    for (const sums of d.windows.values()) {
      anomalies += sums.get(startMs)?.anomalies ?? 0;
      known += sums.get(startMs)?.known ?? 0;
    }
  push('register_anomalies', known > 0 || anomalies > 0 ? anomalies : null, anomalies, 1, MEASURED);
  // each meter's own completeness, so that the silent one can be found
  for (const d of meters) {
    const received = d.readingsByWindow.get(startMs) ?? 0;
    const own = expectedReadings(d.device, startMs, endMs);
    if (own === 0) continue; // removed before the window
    const c = completeness({ received, expected: own });
    push('meter_completeness', c, received, own, MEASURED, d.device.id, c);
  }
  // Peak demand (largest 15-minute average kW) of the site's supply meter, where it has exactly one: the sum of
  // several meters' own peaks would overstate a peak they did not reach together. Of measured quarters only; the
  // value is estimated when the window has quarters spread over a gap, which it did not judge. With the start of its
  // quarter, and the load factor of the window (its energy over the peak held all along).
  const supply = [...(byRole.get('grid') ?? []), ...(byRole.get('dc_total') ?? [])].map((d) =>
    of(d, 'energy_import_kwh'),
  );
  if (supply.length === 1) {
    const bought = supply[0]!;
    const peak = peakDemand(bought.quarters.filter((q) => !q.estimated));
    const basis = basisOf([bought]);
    push('peak_demand_kw', peak?.kw ?? null, peak?.kw ?? 0, 1, peak ? { ...basis, atMs: peak.atMs } : basis);
    const hours = (endMs - startMs) / MS_PER_HOUR;
    // the quarter's average load, estimated ones included (flagged): a district's sum must not lose a site to a gap
    const demand = orNull(bought.energy / hours, bought);
    push('demand_kw', demand, demand ?? 0, 1, basis);
    const lf = peak ? loadFactor({ energyKwh: bought.energy, peakKw: peak.kw, hours }) : null;
    push('load_factor', lf, bought.energy, (peak?.kw ?? 0) * hours, basis);
  }
  costKpis(
    window,
    supply.map((s) => s.quarters),
  );
}

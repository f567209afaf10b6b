import { completeness, peakDemandKw } from '@peakwatch/domain';
import { expectedReadings } from '@peakwatch/registry';
import { MEASURED, basisOf, type SiteWindow } from './site-window';

/** The KPIs of a window of every site, whatever its type: its meters' data quality, and its peak demand. */
export function meterKpis({ meters, byRole, startMs, endMs, of, push }: SiteWindow): void {
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
  // value is estimated when the window has quarters spread over a gap, which it did not judge.
  const supply = [...(byRole.get('grid') ?? []), ...(byRole.get('dc_total') ?? [])];
  if (supply.length === 1) {
    const quarters = of(supply[0]!, 'energy_import_kwh');
    const peak = peakDemandKw(quarters.quarters);
    push('peak_demand_kw', peak, peak ?? 0, 1, basisOf([quarters]));
  }
}

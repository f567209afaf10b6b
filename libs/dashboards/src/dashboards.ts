import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { PolicyData } from '@peakwatch/policy';
import { SUBMETER_ROLES } from '@peakwatch/registry';
import type { InfluxQLQuery } from './influxql';
import { annotations, areaVariables, statValue, tableOf, timeSeries, type Limit } from './panels';

/** Filters on the dashboards' variables (multi-value: Grafana substitutes `(a|b)` inside the regex). */
const SITE = `"site" =~ /^$site$/`;
const DISTRICT = `"district" =~ /^$district$/`;
/** The sub-metering categories (MOHURD 2008), as a regex alternation. */
const SUBMETERS = SUBMETER_ROLES.join('|');

/** A query on the kpi series (docs/contracts.md, "KPI series"); `category` and `groupBy` are InfluxQL (no category by default). */
function kpi(
  select: string,
  {
    name,
    period,
    scope = 'site',
    category = `"category" = ''`,
    groupBy = '"entity"',
    declaredOnly = false,
  }: {
    name: string;
    period: string;
    scope?: 'site' | 'district';
    category?: string;
    groupBy?: string;
    /** A site's renewable share of a month or longer: only where it is a share (docs/domain.md, "Green power"). */
    declaredOnly?: boolean;
  },
): string {
  const entity = scope === 'site' ? `"entity" =~ /^$site$/` : `"entity" =~ /^$district$/`;
  const declared = declaredOnly ? ` AND "undeclared" = false` : '';
  return (
    `SELECT ${select} FROM "kpi" WHERE "scope" = '${scope}' AND ${entity} AND "kpi" = '${name}' ` +
    `AND "period" = '${period}' AND ${category}${declared} AND $timeFilter GROUP BY ${groupBy}`
  );
}

/** A policy value of seeds/policy as a reference line; generation stops naming the id when it is missing. */
function limit(policy: PolicyData, id: string, color: Limit['color']): Limit {
  const threshold = policy.threshold(id);
  if (!threshold) throw new Error(`seeds/policy has no threshold ${id} (a dashboard draws it)`);
  return { value: threshold.value, color };
}

function base(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['peakwatch'])
    .timezone('Asia/Shanghai')
    .refresh('1m')
    .time({ from: 'now-7d', to: 'now' })
    .readonly()
    .variables(areaVariables());
}

function facilityOverview(): dashboard.DashboardBuilder {
  return base(
    'peakwatch-facility',
    'Facility overview',
    'Live power by sub-metering category, energy today and this month, PV, heat pumps and the weather.',
  )
    .withPanel(
      timeSeries(
        'Power by sub-metering category',
        `SELECT mean("power_kw") AS "power_kw" FROM "telemetry" WHERE ${SITE} AND "role" =~ /^(${SUBMETERS})$/ AND $timeFilter GROUP BY time($__interval), "site", "role" fill(null)`,
        { unit: 'kwatt', width: 24 },
      ),
    )
    .withPanel(
      statValue('Energy today', kpi('last("value") AS "energy_kwh"', { name: 'energy_kwh', period: '1d' }), {
        unit: 'kwatth',
        timeFrom: 'now/d',
      }),
    )
    .withPanel(
      statValue(
        'Energy this month',
        kpi('last("value") AS "energy_kwh"', { name: 'energy_kwh', period: '1mo' }),
        { unit: 'kwatth', timeFrom: 'now/M' },
      ),
    )
    .withPanel(
      timeSeries(
        'PV output',
        `SELECT mean("power_kw") AS "power_kw" FROM "telemetry" WHERE ${SITE} AND "role" = 'pv' AND $timeFilter GROUP BY time($__interval), "device" fill(null)`,
        { unit: 'kwatt' },
      ),
    )
    .withPanel(
      timeSeries(
        'Heat-pump COP (hourly)',
        kpi('"value" AS "cop"', {
          name: 'cop',
          period: '1h',
          category: `"category" =~ /.+/`,
          groupBy: '"entity", "category"',
        }),
        { unit: 'none', width: 12 },
      ),
    )
    .withPanel(
      timeSeries(
        'Outdoor temperature',
        `SELECT mean("outdoor_temp_c") AS "outdoor_temp_c" FROM "telemetry" WHERE ${DISTRICT} AND "role" = 'weather' AND $timeFilter GROUP BY time($__interval), "site" fill(null)`,
        { unit: 'celsius' },
      ),
    );
}

function dataCentre(policy: PolicyData): dashboard.DashboardBuilder {
  const pueLimits = [
    limit(policy, 'beijing-new-dc-pue', 'orange'),
    limit(policy, 'beijing-existing-dc-pue-2026', 'red'),
  ];
  return base(
    'peakwatch-data-centre',
    'Data centre',
    'PUE per ISO/IEC 30134-2 (interval and rolling 12 months) against the Beijing limits, IT and facility load, and the renewable share against its trajectory.',
  )
    .withPanel(
      timeSeries(
        'PUE, hourly and daily',
        [
          kpi('"value" AS "pue_1h"', { name: 'pue', period: '1h' }),
          kpi('"value" AS "pue_1d"', { name: 'pue', period: '1d' }),
        ],
        {
          unit: 'none',
          width: 16,
          limits: pueLimits,
          description: 'Limits: 1.3 for new data centres, 1.35 for existing ones from 2026 (seeds/policy).',
        },
      ),
    )
    .withPanel(
      statValue(
        'PUE, rolling 12 months',
        kpi('last("value") AS "pue_12mo"', { name: 'pue', period: 'rolling_12mo' }),
        { unit: 'none', width: 8, limits: pueLimits, timeFrom: '1y' },
      ),
    )
    .withPanel(
      statValue(
        "District PUE, rolling 12 months: its data centres' energy over their IT energy",
        kpi('last("value") AS "pue_12mo"', { name: 'pue', period: 'rolling_12mo', scope: 'district' }),
        {
          unit: 'none',
          width: 8,
          limits: [limit(policy, 'national-dc-pue-average-2025', 'orange')],
          timeFrom: '1y',
          description:
            "The national data-centre action plan's average PUE below 1.5 by the end of 2025 (seeds/policy), for the district's data centres together.",
        },
      ),
    )
    .withPanel(
      timeSeries(
        'IT and facility load',
        `SELECT mean("power_kw") AS "power_kw" FROM "telemetry" WHERE ${SITE} AND "role" =~ /^(dc_total|dc_it)$/ AND $timeFilter GROUP BY time($__interval), "role" fill(null)`,
        { unit: 'kwatt' },
      ),
    )
    .withPanel(
      timeSeries(
        'Renewable share against its trajectory',
        [
          kpi('"value" AS "renewable_share"', { name: 'renewable_share', period: '1d' }),
          kpi('"value" AS "target"', { name: 'renewable_share_target', period: '1d' }),
        ],
        {
          unit: 'percentunit',
          description:
            'New data centres: +10 points a year from commissioning (海淀区碳达峰实施方案 §七(二), an unverified reading).',
        },
      ),
    );
}

function renewables(policy: PolicyData): dashboard.DashboardBuilder {
  const targets = [
    limit(policy, 'beijing-renewable-share-2025', 'orange'),
    limit(policy, 'beijing-renewable-share-2030', 'green'),
  ];
  // the targets count electricity by the generation method (发电煤耗法), as China's energy statistics do: that share is
  // the one drawn against them; the calorific one (0.1229 kgce/kWh) beside it (docs/domain.md, "Renewable share")
  const method =
    'Renewable share of energy use in tce, electricity by the generation method (发电煤耗法), as the targets count it; the calorific method (当量值) beside it.';
  return base(
    'peakwatch-renewables',
    'Renewables',
    'Renewable share of energy use (tce, generation method) by site and district against the Beijing targets: 14.4% by 2025, about 25% by 2030.',
  )
    .withPanel(
      timeSeries(
        'Renewable share by site, monthly',
        [
          kpi('"value" AS "generation_method"', {
            name: 'renewable_share_generation',
            period: '1mo',
            declaredOnly: true,
          }),
          kpi('"value" AS "calorific_method"', {
            name: 'renewable_share',
            period: '1mo',
            declaredOnly: true,
          }),
        ],
        {
          unit: 'percentunit',
          limits: targets,
          description: `${method} A month with nothing renewable metered and no green power declared is not drawn: it has no share, not one of 0.`,
        },
      ),
    )
    .withPanel(
      timeSeries(
        'Renewable share by district, monthly',
        [
          kpi('"value" AS "generation_method"', {
            name: 'renewable_share_generation',
            period: '1mo',
            scope: 'district',
          }),
          kpi('"value" AS "calorific_method"', { name: 'renewable_share', period: '1mo', scope: 'district' }),
        ],
        { unit: 'percentunit', limits: targets, description: method },
      ),
    )
    .withPanel(
      statValue(
        'Renewable share this year, by district (generation method)',
        kpi('last("value") AS "renewable_share"', {
          name: 'renewable_share_generation',
          period: '1y',
          scope: 'district',
        }),
        { unit: 'percentunit', width: 24, limits: targets, timeFrom: 'now/y', description: method },
      ),
    );
}

function buildings(policy: PolicyData): dashboard.DashboardBuilder {
  const eui = [
    limit(policy, 'gbt51161-cold-office-a-guide', 'orange'),
    limit(policy, 'gbt51161-cold-office-a-constraint', 'red'),
  ];
  return base(
    'peakwatch-buildings',
    'Buildings',
    "Electricity use intensity (kWh/m², the basis of GB/T 51161-2016) against the guide and constraint values seeded for a cold-zone class A office (a Shaanxi case study's figures, not the standard's Beijing table: unverified), by sub-metering category; comprehensive energy and CO2 per m² against the baseline.",
  )
    .withPanel(
      statValue(
        'Energy intensity, rolling 12 months',
        kpi('last("value") AS "eui_kwh_m2"', { name: 'eui_kwh_m2', period: 'rolling_12mo' }),
        { unit: 'none', width: 24, limits: eui, timeFrom: '1y' },
      ),
    )
    .withPanel(
      timeSeries(
        'Energy intensity by month',
        kpi('"value" AS "eui_kwh_m2"', { name: 'eui_kwh_m2', period: '1mo' }),
        { unit: 'none' },
      ),
    )
    .withPanel(
      timeSeries(
        'Daily energy by sub-metering category',
        kpi('"value" AS "energy_kwh"', {
          name: 'energy_kwh',
          period: '1d',
          category: `"category" =~ /^(${SUBMETERS})$/`,
          groupBy: '"entity", "category"',
        }),
        { unit: 'kwatth' },
      ),
    )
    .withPanel(
      timeSeries(
        'Per m² this year (annualised) against the baseline',
        [
          kpi('"numerator" AS "kgce_per_m2", "denominator" AS "baseline_kgce_per_m2"', {
            name: 'energy_kgce_reduction',
            period: '1y',
          }),
          kpi('"numerator" AS "co2_kg_per_m2", "denominator" AS "baseline_co2_kg_per_m2"', {
            name: 'co2_reduction',
            period: '1y',
          }),
          kpi('"numerator" AS "kwh_per_m2", "denominator" AS "baseline_kwh_per_m2"', {
            name: 'energy_reduction',
            period: '1y',
          }),
        ],
        {
          unit: 'none',
          width: 24,
          description:
            "Comprehensive energy (kgce/m², GB/T 2589: electricity, gas and district heat), carbon (kg/m², at the baseline year's factors) and electricity (kWh/m²) per m² this year (annualised), and the baseline year's; the reductions and their 2025 targets are the next panel.",
        },
      ),
    )
    .withPanel(
      timeSeries(
        'Reduction per m² this year against the baseline, and the 2025 targets',
        [
          kpi('"value" AS "energy_kgce_reduction"', { name: 'energy_kgce_reduction', period: '1y' }),
          kpi('"value" AS "co2_reduction"', { name: 'co2_reduction', period: '1y' }),
        ],
        {
          unit: 'percentunit',
          width: 24,
          limits: [
            limit(policy, 'haidian-public-institution-energy-2025', 'orange'),
            limit(policy, 'haidian-public-institution-carbon-2025', 'green'),
          ],
          description:
            "Public institutions: at least 8% less comprehensive energy (单位建筑面积综合能耗, kgce/m²) and 9% less carbon per m² than the baseline year by 2025 (海淀区碳达峰实施方案 §七(一), seeds/policy); 1 − this year so far, projected to its end, over the baseline. Carbon is at the baseline year's factors in both years, so a revised grid factor is not a reduction.",
        },
      ),
    )
    .withPanel(
      timeSeries(
        'Quota burn: electricity this year against the annual quota',
        kpi('"numerator" AS "kwh_this_year", "denominator" AS "quota_kwh"', {
          name: 'quota_use',
          period: '1y',
        }),
        {
          unit: 'kwatth',
          width: 24,
          description:
            'Beijing public buildings ≥ 3,000 m² (用电限额); the KPI quota_use is the use projected to the year end; more than 20% over may bring an energy audit.',
        },
      ),
    )
    .withPanel(
      timeSeries(
        'CO2 by month (location-based)',
        kpi('"value" AS "co2_t"', { name: 'co2_t', period: '1mo' }),
        {
          unit: 'none',
          width: 24,
        },
      ),
    );
}

function costAndPeaks(): dashboard.DashboardBuilder {
  const daily = (name: string, alias: string, more: { category?: string; groupBy?: string } = {}): string =>
    kpi(`"value" AS "${alias}"`, { name, period: '1d', ...more });
  return base(
    'peakwatch-cost',
    'Cost and peaks',
    'Electricity cost at the time-of-use tariff by band, average price, peak demand, load factor and the districts\' coincident peak (docs/domain.md, "Cost and peaks").',
  )
    .withPanel(
      timeSeries(
        'Cost by band, daily',
        daily('cost_cny', 'cost_cny', { category: `"category" =~ /.+/`, groupBy: '"entity", "category"' }),
        {
          unit: 'currencyCNY',
          width: 24,
          description:
            "Each quarter hour bought (grid imports; a data centre's total meter) at the price of its band (尖峰, 高峰, 平段, 低谷) in the tariff version in force on its date. A site without a tariff has none (not 0).",
        },
      ),
    )
    .withPanel(
      timeSeries('Average price, daily', daily('avg_price_cny_kwh', 'avg_price_cny_kwh'), {
        unit: 'none',
        description: 'CNY per kWh bought: the cost over the energy it was for.',
      }),
    )
    .withPanel(
      timeSeries('Share of energy in the peak bands, daily', daily('peak_band_share', 'peak_band_share'), {
        unit: 'percentunit',
        description:
          'kWh bought in the critical and peak bands over all kWh bought: what shifting to the valley lowers.',
      }),
    )
    .withPanel(
      timeSeries(
        'Peak demand and the load in the peak hours, daily',
        [daily('peak_demand_kw', 'peak_demand_kw'), daily('peak_hours_load_kw', 'peak_hours_load_kw')],
        {
          unit: 'kwatt',
          description:
            "The largest 15-minute average load of the site's supply meter (最大需量), and its average load in the peak bands' quarter hours.",
        },
      ),
    )
    .withPanel(
      timeSeries('Load factor, daily', daily('load_factor', 'load_factor'), {
        unit: 'percentunit',
        description:
          'The energy bought over the peak demand held all day: the flatter the load, the nearer 1.',
      }),
    )
    .withPanel(
      timeSeries(
        'Coincident peak of the district, daily',
        kpi('"value" AS "coincident_peak_kw"', {
          name: 'coincident_peak_kw',
          period: '1d',
          scope: 'district',
        }),
        {
          unit: 'kwatt',
          width: 24,
          description:
            "The largest quarter hour of the district's sites' summed load (同时最大负荷): not the sum of their peaks, which need not coincide.",
        },
      ),
    )
    .withPanel(
      tableOf(
        "Emitters' carbon-market position",
        `SELECT last("allowance_t") AS "allowance_t", last("to_date_t") AS "to_date_t", last("projected_t") AS "projected_t", last("surplus_t") AS "surplus_t", last("surplus_cny") AS "surplus_cny", last("warning") AS "warning" FROM "carbon_position" WHERE ${DISTRICT} AND $timeFilter GROUP BY "org", "year"`,
      ),
    )
    .withPanel(
      timeSeries(
        'Projected emissions against the allowance',
        `SELECT last("projected_t") AS "projected_t", last("allowance_t") AS "allowance_t", last("to_date_t") AS "to_date_t" FROM "carbon_position" WHERE ${DISTRICT} AND $timeFilter GROUP BY time(1d), "org" fill(none)`,
        {
          unit: 'none',
          width: 24,
          description:
            'As each monthly report states it (docs/reports.md, "Carbon-market position"): CO2 of the months filed, projected to the year\'s end, against the allowance (配额) declared; t CO2.',
        },
      ),
    );
}

function demandResponse(policy: PolicyData): dashboard.DashboardBuilder {
  return base(
    'peakwatch-demand-response',
    'Demand response',
    'Demand-response events: each site\'s load against its baseline, the measured results, and the district\'s peak-shaving capability (docs/domain.md, "Demand response").',
  )
    .annotation(
      annotations(
        'Demand-response events',
        'blue',
        `SELECT "ends_at" AS "text" FROM "dr_event" WHERE ${DISTRICT} AND "site" = 'total' AND $timeFilter GROUP BY "event"`,
      ),
    )
    .withPanel(
      timeSeries(
        'Load against the event baseline',
        [
          kpi('"value" AS "load_kw"', { name: 'demand_kw', period: '15m' }),
          kpi('"value" AS "baseline_kw"', {
            name: 'dr_baseline_kw',
            period: '15m',
            category: `"category" =~ /.+/`,
            groupBy: '"entity", "category"',
          }),
        ],
        {
          unit: 'kwatt',
          width: 24,
          description:
            "Each quarter hour: the site's load, and over an event the baseline it is measured against (the mean of its 5 previous working days, adjusted by the morning ratio).",
        },
      ),
    )
    .withPanel(
      tableOf(
        'Events measured',
        `SELECT "requested_kw" AS "requested_kw", "reduced_kw" AS "reduced_kw", "shifted_kwh" AS "shifted_kwh", "met" AS "met", "completeness" AS "completeness" FROM "dr_event" WHERE ${DISTRICT} AND ("site" =~ /^$site$/ OR "site" = 'total') AND $timeFilter GROUP BY "event", "site"`,
      ),
    )
    .withPanel(
      statValue(
        'Peak-shaving capability this year',
        kpi('last("value") AS "peak_shaving_share"', {
          name: 'peak_shaving_share',
          period: '1y',
          scope: 'district',
        }),
        {
          unit: 'percentunit',
          timeFrom: 'now/y',
          limits: [
            limit(policy, 'beijing-peak-shaving-2025-min', 'orange'),
            limit(policy, 'beijing-peak-shaving-2025-max', 'green'),
          ],
          description:
            "The largest reduction the district's sites made together in one event this year, over the district's maximum load of the year; the plan's target is 3–5 % (京政发〔2022〕31号).",
        },
      ),
    );
}

function alerts(): dashboard.DashboardBuilder {
  return base('peakwatch-alerts', 'Alerts', 'Alert events of the district: as annotations and as a table.')
    .annotation(
      annotations(
        'Alerts',
        'red',
        `SELECT "title" AS "text" FROM "alert_event" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY "rule", "state"`,
      ),
    )
    .withPanel(
      timeSeries(
        'Alert events',
        `SELECT count("value") AS "events" FROM "alert_event" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY time($__interval), "severity" fill(0)`,
        { unit: 'none', width: 24 },
      ),
    )
    .withPanel(
      tableOf(
        'Alert history',
        `SELECT "title" AS "title", "value" AS "value", "threshold" AS "threshold" FROM "alert_event" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY "rule", "site", "severity", "state"`,
      ),
    );
}

function districtStanding(): dashboard.DashboardBuilder {
  return base(
    'peakwatch-district-standing',
    'District standing',
    'A regulator\'s page: every site of the district against the thresholds regulators are alerted on, worst first (docs/contracts.md, "District standing").',
  ).withPanel(
    tableOf(
      'Sites against their thresholds, worst first',
      // each site and rule's latest evaluation whole (a later one without a value does not keep an older margin)
      `SELECT "margin" AS "margin", "value" AS "value", "threshold" AS "threshold", "completeness" AS "completeness", "state" AS "state", "title" AS "title" FROM "standing" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY "district", "site", "rule" ORDER BY time DESC LIMIT 1`,
      {
        height: 16,
        description:
          'margin: how far past its threshold, as a fraction (value ÷ threshold − 1 for a limit, threshold − value for a floor); no value: too few readings to judge (completeness beside it), or not yet evaluated. state: the alert of the rule for the site (firing, pending: open).',
        sortBy: { field: 'margin', desc: true },
      },
    ),
  );
}

function deviceHealth(policy: PolicyData): dashboard.DashboardBuilder {
  return base(
    'peakwatch-device-health',
    'Device health',
    'When each device was last heard from, completeness per site and day, rejected messages by reason, and late data.',
  )
    .withPanel(
      tableOf(
        'Last seen',
        `SELECT last("seq") AS "seq" FROM "telemetry" WHERE ${SITE} AND $timeFilter GROUP BY "site", "device"`,
      ),
    )
    .withPanel(
      timeSeries(
        'Completeness by site, daily',
        kpi('"completeness" AS "completeness"', { name: 'energy_kwh', period: '1d' }),
        { unit: 'percentunit', limits: [limit(policy, 'online-monitoring-completeness', 'orange')] },
      ),
    )
    .withPanel(
      timeSeries(
        'Rejected messages by reason',
        `SELECT sum("count") AS "rejected" FROM "ingest_reject" WHERE $timeFilter GROUP BY time($__interval), "reason" fill(0)`,
        { unit: 'none' },
      ),
    )
    .withPanel(
      timeSeries(
        'Late readings received',
        `SELECT sum("readings") AS "late_readings" FROM "ingest_late" WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), "site" fill(0)`,
        { unit: 'none', width: 24 },
      ),
    );
}

/** Every dashboard, by file name under seeds/grafana/dashboards. */
export function dashboards(policy: PolicyData): Record<string, dashboard.Dashboard> {
  return {
    'facility-overview.json': facilityOverview().build(),
    'data-centre.json': dataCentre(policy).build(),
    'renewables.json': renewables(policy).build(),
    'buildings.json': buildings(policy).build(),
    'cost-and-peaks.json': costAndPeaks().build(),
    'demand-response.json': demandResponse(policy).build(),
    'alerts.json': alerts().build(),
    'device-health.json': deviceHealth(policy).build(),
    'district-standing.json': districtStanding().build(),
  };
}

/** Every InfluxQL query of a dashboard: its panels' targets and its annotations, named for test output. */
export function dashboardQueries(
  board: dashboard.Dashboard,
): { name: string; refId: string; query: string }[] {
  const panels = (board.panels ?? []).flatMap((panel) =>
    ((('targets' in panel ? panel.targets : undefined) ?? []) as unknown as InfluxQLQuery[]).map((t) => ({
      name: `${'title' in panel ? panel.title : ''} (${t.refId})`,
      refId: t.refId,
      query: t.query,
    })),
  );
  const annotations = (board.annotations?.list ?? [])
    .filter((a) => a.target)
    .map((a) => ({
      name: `annotation ${a.name}`,
      refId: 'A',
      query: (a.target as unknown as InfluxQLQuery).query,
    }));
  return [...panels, ...annotations];
}

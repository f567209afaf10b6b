import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { Language } from '@peakwatch/contracts';
import type { PolicyData } from '@peakwatch/policy';
import { SUBMETER_ROLES } from '@peakwatch/registry';
import type { InfluxQLQuery } from './influxql';
import {
  annotations,
  areaVariables,
  statValue,
  tableOf,
  timeSeries,
  type Column,
  type Limit,
} from './panels';
import { DASHBOARD_TEXTS, dashboardTexts, type Texts } from './texts';

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

/**
 * A dashboard's uid in a language: the Chinese dashboards keep the uids they had before there were two languages (so
 * that links to them still open them), the English ones add `-en`; Grafana needs a uid unique in the installation.
 */
export function dashboardUid(uid: string, language: Language): string {
  return language === 'zh-CN' ? uid : `${uid}-en`;
}

/** What every dashboard builder is given: the policy data, the language, and its texts. */
interface Context {
  policy: PolicyData;
  language: Language;
  t: Texts;
}

function base(
  { language, t }: Context,
  uid: string,
  texts: { title: string; description: string },
): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(texts.title)
    .uid(dashboardUid(uid, language))
    .description(texts.description)
    .tags(['peakwatch'])
    .timezone('Asia/Shanghai')
    .refresh('1m')
    .time({ from: 'now-7d', to: 'now' })
    .readonly()
    .variables(areaVariables({ district: t('variables.district'), site: t('variables.site') }));
}

/** The columns the tables share, named in the dashboard's language. */
function columns(t: Texts): Record<'Time' | 'district' | 'site' | 'device' | 'completeness', Column> {
  return {
    Time: { name: t('columns.time') },
    district: { name: t('columns.district') },
    site: { name: t('columns.site') },
    device: { name: t('columns.device') },
    completeness: { name: t('columns.completeness') },
  };
}

/** An alert's state and severity as words of the dashboard's language. */
function alertColumns(
  t: Texts,
): Record<'rule' | 'severity' | 'state' | 'title' | 'value' | 'threshold', Column> {
  return {
    rule: { name: t('columns.rule') },
    severity: {
      name: t('columns.severity'),
      mappings: {
        critical: t('values.critical'),
        warning: t('values.warning'),
        info: t('values.info'),
      },
    },
    state: {
      name: t('columns.state'),
      mappings: {
        firing: t('values.firing'),
        pending: t('values.pending'),
        resolved: t('values.resolved'),
      },
    },
    title: { name: t('columns.title') },
    value: { name: t('columns.value') },
    threshold: { name: t('columns.threshold') },
  };
}

function facilityOverview(c: Context): dashboard.DashboardBuilder {
  const { t } = c;
  return base(c, 'peakwatch-facility', {
    title: t('facility.title'),
    description: t('facility.description'),
  })
    .withPanel(
      timeSeries(
        t('facility.power.title'),
        {
          query: `SELECT mean("power_kw") AS "power_kw" FROM "telemetry" WHERE ${SITE} AND "role" =~ /^(${SUBMETERS})$/ AND $timeFilter GROUP BY time($__interval), "site", "role" fill(null)`,
          legend: t('facility.power.legend'),
        },
        { unit: 'kwatt', width: 24 },
      ),
    )
    .withPanel(
      statValue(
        t('facility.energyToday.title'),
        {
          query: kpi('last("value") AS "energy_kwh"', { name: 'energy_kwh', period: '1d' }),
          legend: t('facility.energyToday.legend'),
        },
        { unit: 'kwatth', timeFrom: 'now/d' },
      ),
    )
    .withPanel(
      statValue(
        t('facility.energyMonth.title'),
        {
          query: kpi('last("value") AS "energy_kwh"', { name: 'energy_kwh', period: '1mo' }),
          legend: t('facility.energyMonth.legend'),
        },
        { unit: 'kwatth', timeFrom: 'now/M' },
      ),
    )
    .withPanel(
      timeSeries(
        t('facility.pv.title'),
        {
          query: `SELECT mean("power_kw") AS "power_kw" FROM "telemetry" WHERE ${SITE} AND "role" = 'pv' AND $timeFilter GROUP BY time($__interval), "device" fill(null)`,
          legend: t('facility.pv.legend'),
        },
        { unit: 'kwatt' },
      ),
    )
    .withPanel(
      timeSeries(
        t('facility.cop.title'),
        {
          query: kpi('"value" AS "cop"', {
            name: 'cop',
            period: '1h',
            category: `"category" =~ /.+/`,
            groupBy: '"entity", "category"',
          }),
          legend: t('facility.cop.legend'),
        },
        { unit: 'none', width: 12 },
      ),
    )
    .withPanel(
      timeSeries(
        t('facility.outdoor.title'),
        {
          query: `SELECT mean("outdoor_temp_c") AS "outdoor_temp_c" FROM "telemetry" WHERE ${DISTRICT} AND "role" = 'weather' AND $timeFilter GROUP BY time($__interval), "site" fill(null)`,
          legend: t('facility.outdoor.legend'),
        },
        { unit: 'celsius' },
      ),
    );
}

function dataCentre(c: Context): dashboard.DashboardBuilder {
  const { policy, t } = c;
  const pueLimits = [
    limit(policy, 'beijing-new-dc-pue', 'orange'),
    limit(policy, 'beijing-existing-dc-pue-2026', 'red'),
  ];
  return base(c, 'peakwatch-data-centre', {
    title: t('dataCentre.title'),
    description: t('dataCentre.description'),
  })
    .withPanel(
      timeSeries(
        t('dataCentre.pue.title'),
        [
          {
            query: kpi('"value" AS "pue_1h"', { name: 'pue', period: '1h' }),
            legend: t('dataCentre.pue.hourly'),
          },
          {
            query: kpi('"value" AS "pue_1d"', { name: 'pue', period: '1d' }),
            legend: t('dataCentre.pue.daily'),
          },
        ],
        { unit: 'none', width: 16, limits: pueLimits, description: t('dataCentre.pue.description') },
      ),
    )
    .withPanel(
      statValue(
        t('dataCentre.pue12.title'),
        {
          query: kpi('last("value") AS "pue_12mo"', { name: 'pue', period: 'rolling_12mo' }),
          legend: t('dataCentre.pue12.legend'),
        },
        { unit: 'none', width: 8, limits: pueLimits, timeFrom: '1y' },
      ),
    )
    .withPanel(
      statValue(
        t('dataCentre.districtPue.title'),
        {
          query: kpi('last("value") AS "pue_12mo"', {
            name: 'pue',
            period: 'rolling_12mo',
            scope: 'district',
          }),
          legend: t('dataCentre.districtPue.legend'),
        },
        {
          unit: 'none',
          width: 8,
          limits: [limit(policy, 'national-dc-pue-average-2025', 'orange')],
          timeFrom: '1y',
          description: t('dataCentre.districtPue.description'),
        },
      ),
    )
    .withPanel(
      timeSeries(
        t('dataCentre.load.title'),
        {
          query: `SELECT mean("power_kw") AS "power_kw" FROM "telemetry" WHERE ${SITE} AND "role" =~ /^(dc_total|dc_it)$/ AND $timeFilter GROUP BY time($__interval), "role" fill(null)`,
          legend: t('dataCentre.load.legend'),
        },
        { unit: 'kwatt' },
      ),
    )
    .withPanel(
      timeSeries(
        t('dataCentre.renewable.title'),
        [
          {
            query: kpi('"value" AS "renewable_share"', { name: 'renewable_share', period: '1d' }),
            legend: t('dataCentre.renewable.share'),
          },
          {
            query: kpi('"value" AS "target"', { name: 'renewable_share_target', period: '1d' }),
            legend: t('dataCentre.renewable.target'),
          },
        ],
        { unit: 'percentunit', description: t('dataCentre.renewable.description') },
      ),
    );
}

function renewables(c: Context): dashboard.DashboardBuilder {
  const { policy, t } = c;
  const targets = [
    limit(policy, 'beijing-renewable-share-2025', 'orange'),
    limit(policy, 'beijing-renewable-share-2030', 'green'),
  ];
  // the targets count electricity by the generation method (发电煤耗法), as China's energy statistics do: that share is
  // the one drawn against them; the calorific one (0.1229 kgce/kWh) beside it (docs/domain.md, "Renewable share")
  return base(c, 'peakwatch-renewables', {
    title: t('renewables.title'),
    description: t('renewables.description'),
  })
    .withPanel(
      timeSeries(
        t('renewables.bySite.title'),
        [
          {
            query: kpi('"value" AS "generation_method"', {
              name: 'renewable_share_generation',
              period: '1mo',
              declaredOnly: true,
            }),
            legend: t('renewables.bySite.generation'),
          },
          {
            query: kpi('"value" AS "calorific_method"', {
              name: 'renewable_share',
              period: '1mo',
              declaredOnly: true,
            }),
            legend: t('renewables.bySite.calorific'),
          },
        ],
        { unit: 'percentunit', limits: targets, description: t('renewables.bySite.description') },
      ),
    )
    .withPanel(
      timeSeries(
        t('renewables.byDistrict.title'),
        [
          {
            query: kpi('"value" AS "generation_method"', {
              name: 'renewable_share_generation',
              period: '1mo',
              scope: 'district',
            }),
            legend: t('renewables.byDistrict.generation'),
          },
          {
            query: kpi('"value" AS "calorific_method"', {
              name: 'renewable_share',
              period: '1mo',
              scope: 'district',
            }),
            legend: t('renewables.byDistrict.calorific'),
          },
        ],
        { unit: 'percentunit', limits: targets, description: t('renewables.method') },
      ),
    )
    .withPanel(
      statValue(
        t('renewables.year.title'),
        {
          query: kpi('last("value") AS "renewable_share"', {
            name: 'renewable_share_generation',
            period: '1y',
            scope: 'district',
          }),
          legend: t('renewables.year.legend'),
        },
        {
          unit: 'percentunit',
          width: 24,
          limits: targets,
          timeFrom: 'now/y',
          description: t('renewables.method'),
        },
      ),
    );
}

function buildings(c: Context): dashboard.DashboardBuilder {
  const { policy, t } = c;
  const eui = [
    limit(policy, 'gbt51161-cold-office-a-guide', 'orange'),
    limit(policy, 'gbt51161-cold-office-a-constraint', 'red'),
  ];
  /** This year's value per m² (the KPI's numerator) or the baseline year's (its denominator), one series each. */
  const perM2 = (column: 'numerator' | 'denominator', alias: string, name: string, legend: string) => ({
    query: kpi(`"${column}" AS "${alias}"`, { name, period: '1y' }),
    legend,
  });
  return base(c, 'peakwatch-buildings', {
    title: t('buildings.title'),
    description: t('buildings.description'),
  })
    .withPanel(
      statValue(
        t('buildings.eui12.title'),
        {
          query: kpi('last("value") AS "eui_kwh_m2"', { name: 'eui_kwh_m2', period: 'rolling_12mo' }),
          legend: t('buildings.eui12.legend'),
        },
        { unit: 'none', width: 24, limits: eui, timeFrom: '1y' },
      ),
    )
    .withPanel(
      timeSeries(
        t('buildings.euiMonth.title'),
        {
          query: kpi('"value" AS "eui_kwh_m2"', { name: 'eui_kwh_m2', period: '1mo' }),
          legend: t('buildings.euiMonth.legend'),
        },
        { unit: 'none' },
      ),
    )
    .withPanel(
      timeSeries(
        t('buildings.daily.title'),
        {
          query: kpi('"value" AS "energy_kwh"', {
            name: 'energy_kwh',
            period: '1d',
            category: `"category" =~ /^(${SUBMETERS})$/`,
            groupBy: '"entity", "category"',
          }),
          legend: t('buildings.daily.legend'),
        },
        { unit: 'kwatth' },
      ),
    )
    .withPanel(
      timeSeries(
        t('buildings.perM2.title'),
        [
          perM2('numerator', 'kgce_per_m2', 'energy_kgce_reduction', t('buildings.perM2.kgce')),
          perM2(
            'denominator',
            'baseline_kgce_per_m2',
            'energy_kgce_reduction',
            t('buildings.perM2.kgceBaseline'),
          ),
          perM2('numerator', 'co2_kg_per_m2', 'co2_reduction', t('buildings.perM2.co2')),
          perM2('denominator', 'baseline_co2_kg_per_m2', 'co2_reduction', t('buildings.perM2.co2Baseline')),
          perM2('numerator', 'kwh_per_m2', 'energy_reduction', t('buildings.perM2.kwh')),
          perM2('denominator', 'baseline_kwh_per_m2', 'energy_reduction', t('buildings.perM2.kwhBaseline')),
        ],
        { unit: 'none', width: 24, description: t('buildings.perM2.description') },
      ),
    )
    .withPanel(
      timeSeries(
        t('buildings.reduction.title'),
        [
          {
            query: kpi('"value" AS "energy_kgce_reduction"', { name: 'energy_kgce_reduction', period: '1y' }),
            legend: t('buildings.reduction.energy'),
          },
          {
            query: kpi('"value" AS "co2_reduction"', { name: 'co2_reduction', period: '1y' }),
            legend: t('buildings.reduction.co2'),
          },
        ],
        {
          unit: 'percentunit',
          width: 24,
          limits: [
            limit(policy, 'haidian-public-institution-energy-2025', 'orange'),
            limit(policy, 'haidian-public-institution-carbon-2025', 'green'),
          ],
          description: t('buildings.reduction.description'),
        },
      ),
    )
    .withPanel(
      timeSeries(
        t('buildings.quota.title'),
        [
          {
            query: kpi('"numerator" AS "kwh_this_year"', { name: 'quota_use', period: '1y' }),
            legend: t('buildings.quota.used'),
          },
          {
            query: kpi('"denominator" AS "quota_kwh"', { name: 'quota_use', period: '1y' }),
            legend: t('buildings.quota.quota'),
          },
        ],
        { unit: 'kwatth', width: 24, description: t('buildings.quota.description') },
      ),
    )
    .withPanel(
      timeSeries(
        t('buildings.co2.title'),
        {
          query: kpi('"value" AS "co2_t"', { name: 'co2_t', period: '1mo' }),
          legend: t('buildings.co2.legend'),
        },
        { unit: 'none', width: 24 },
      ),
    );
}

function costAndPeaks(c: Context): dashboard.DashboardBuilder {
  const { t } = c;
  const daily = (name: string, alias: string, more: { category?: string; groupBy?: string } = {}): string =>
    kpi(`"value" AS "${alias}"`, { name, period: '1d', ...more });
  /** One column of the emitters' latest positions, a series per organisation. */
  const position = (field: string, legend: string) => ({
    query: `SELECT last("${field}") AS "${field}" FROM "carbon_position" WHERE ${DISTRICT} AND $timeFilter GROUP BY time(1d), "org" fill(none)`,
    legend,
  });
  return base(c, 'peakwatch-cost', { title: t('cost.title'), description: t('cost.description') })
    .withPanel(
      timeSeries(
        t('cost.byBand.title'),
        {
          query: daily('cost_cny', 'cost_cny', {
            category: `"category" =~ /.+/`,
            groupBy: '"entity", "category"',
          }),
          legend: t('cost.byBand.legend'),
        },
        { unit: 'currencyCNY', width: 24, description: t('cost.byBand.description') },
      ),
    )
    .withPanel(
      timeSeries(
        t('cost.price.title'),
        { query: daily('avg_price_cny_kwh', 'avg_price_cny_kwh'), legend: t('cost.price.legend') },
        { unit: 'none', description: t('cost.price.description') },
      ),
    )
    .withPanel(
      timeSeries(
        t('cost.peakShare.title'),
        { query: daily('peak_band_share', 'peak_band_share'), legend: t('cost.peakShare.legend') },
        { unit: 'percentunit', description: t('cost.peakShare.description') },
      ),
    )
    .withPanel(
      timeSeries(
        t('cost.demand.title'),
        [
          { query: daily('peak_demand_kw', 'peak_demand_kw'), legend: t('cost.demand.peak') },
          { query: daily('peak_hours_load_kw', 'peak_hours_load_kw'), legend: t('cost.demand.peakHours') },
        ],
        { unit: 'kwatt', description: t('cost.demand.description') },
      ),
    )
    .withPanel(
      timeSeries(
        t('cost.loadFactor.title'),
        { query: daily('load_factor', 'load_factor'), legend: t('cost.loadFactor.legend') },
        { unit: 'percentunit', description: t('cost.loadFactor.description') },
      ),
    )
    .withPanel(
      timeSeries(
        t('cost.coincident.title'),
        {
          query: kpi('"value" AS "coincident_peak_kw"', {
            name: 'coincident_peak_kw',
            period: '1d',
            scope: 'district',
          }),
          legend: t('cost.coincident.legend'),
        },
        { unit: 'kwatt', width: 24, description: t('cost.coincident.description') },
      ),
    )
    .withPanel(
      tableOf(
        t('cost.position.title'),
        `SELECT last("allowance_t") AS "allowance_t", last("to_date_t") AS "to_date_t", last("projected_t") AS "projected_t", last("surplus_t") AS "surplus_t", last("surplus_cny") AS "surplus_cny", last("warning") AS "warning" FROM "carbon_position" WHERE ${DISTRICT} AND $timeFilter GROUP BY "org", "year"`,
        {
          columns: {
            Time: columns(t).Time,
            org: { name: t('cost.position.org') },
            year: { name: t('cost.position.year') },
            allowance_t: { name: t('cost.position.allowance') },
            to_date_t: { name: t('cost.position.toDate') },
            projected_t: { name: t('cost.position.projected') },
            surplus_t: { name: t('cost.position.surplus') },
            surplus_cny: { name: t('cost.position.surplusCny') },
            warning: {
              name: t('cost.position.warning'),
              booleans: { true: t('values.yes'), false: t('values.no') },
            },
          },
        },
      ),
    )
    .withPanel(
      timeSeries(
        t('cost.projected.title'),
        [
          position('projected_t', t('cost.projected.projected')),
          position('allowance_t', t('cost.projected.allowance')),
          position('to_date_t', t('cost.projected.toDate')),
        ],
        { unit: 'none', width: 24, description: t('cost.projected.description') },
      ),
    );
}

function demandResponse(c: Context): dashboard.DashboardBuilder {
  const { policy, t } = c;
  return base(c, 'peakwatch-demand-response', {
    title: t('demandResponse.title'),
    description: t('demandResponse.description'),
  })
    .annotation(
      annotations(
        t('demandResponse.annotation'),
        'blue',
        `SELECT "ends_at" AS "text" FROM "dr_event" WHERE ${DISTRICT} AND "site" = 'total' AND $timeFilter GROUP BY "event"`,
      ),
    )
    .withPanel(
      timeSeries(
        t('demandResponse.load.title'),
        [
          {
            query: kpi('"value" AS "load_kw"', { name: 'demand_kw', period: '15m' }),
            legend: t('demandResponse.load.load'),
          },
          {
            query: kpi('"value" AS "baseline_kw"', {
              name: 'dr_baseline_kw',
              period: '15m',
              category: `"category" =~ /.+/`,
              groupBy: '"entity", "category"',
            }),
            legend: t('demandResponse.load.baseline'),
          },
        ],
        { unit: 'kwatt', width: 24, description: t('demandResponse.load.description') },
      ),
    )
    .withPanel(
      tableOf(
        t('demandResponse.events.title'),
        `SELECT "requested_kw" AS "requested_kw", "reduced_kw" AS "reduced_kw", "shifted_kwh" AS "shifted_kwh", "met" AS "met", "completeness" AS "completeness" FROM "dr_event" WHERE ${DISTRICT} AND ("site" =~ /^$site$/ OR "site" = 'total') AND $timeFilter GROUP BY "event", "site"`,
        {
          columns: {
            ...columns(t),
            event: { name: t('demandResponse.events.event') },
            site: { name: t('columns.site'), mappings: { total: t('demandResponse.events.total') } },
            requested_kw: { name: t('demandResponse.events.requested') },
            reduced_kw: { name: t('demandResponse.events.reduced') },
            shifted_kwh: { name: t('demandResponse.events.shifted') },
            met: {
              name: t('demandResponse.events.met'),
              booleans: { true: t('values.yes'), false: t('values.no') },
            },
          },
        },
      ),
    )
    .withPanel(
      statValue(
        t('demandResponse.capability.title'),
        {
          query: kpi('last("value") AS "peak_shaving_share"', {
            name: 'peak_shaving_share',
            period: '1y',
            scope: 'district',
          }),
          legend: t('demandResponse.capability.legend'),
        },
        {
          unit: 'percentunit',
          timeFrom: 'now/y',
          limits: [
            limit(policy, 'beijing-peak-shaving-2025-min', 'orange'),
            limit(policy, 'beijing-peak-shaving-2025-max', 'green'),
          ],
          description: t('demandResponse.capability.description'),
        },
      ),
    );
}

function alerts(c: Context): dashboard.DashboardBuilder {
  const { t, language } = c;
  return base(c, 'peakwatch-alerts', { title: t('alerts.title'), description: t('alerts.description') })
    .annotation(
      annotations(
        t('alerts.annotation'),
        'red',
        `SELECT "${titleField(language)}" AS "text" FROM "alert_event" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY "rule", "state"`,
      ),
    )
    .withPanel(
      timeSeries(
        t('alerts.events.title'),
        {
          query: `SELECT count("value") AS "events" FROM "alert_event" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY time($__interval), "severity" fill(0)`,
          legend: t('alerts.events.legend'),
        },
        { unit: 'none', width: 24 },
      ),
    )
    .withPanel(
      tableOf(
        t('alerts.history.title'),
        `SELECT "${titleField(language)}" AS "title", "value" AS "value", "threshold" AS "threshold" FROM "alert_event" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY "rule", "site", "severity", "state"`,
        { columns: { ...columns(t), ...alertColumns(t) } },
      ),
    );
}

/**
 * The field of a rule's or an incident's title in `language`: `alert_event`, `standing` and `incident` points carry
 * `title` (English) and `title_zh` (docs/contracts.md, "InfluxDB measurements").
 */
function titleField(language: Language): 'title' | 'title_zh' {
  return language === 'zh-CN' ? 'title_zh' : 'title';
}

/**
 * Incidents (alerts grouped by their common cause): each incident's last point at each site in the time range, its
 * kind and state as words, and its title in the dashboard's language (the measurement holds both).
 */
function incidents({ language, t }: Context) {
  return tableOf(
    t('incidents.title'),
    `SELECT "state" AS "state", "members" AS "members", "${titleField(language)}" AS "title" FROM "incident" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY "incident", "kind", "cause", "site" ORDER BY time DESC LIMIT 1`,
    {
      height: 10,
      description: t('incidents.description'),
      columns: {
        ...columns(t),
        incident: { hidden: true },
        kind: {
          name: t('incidents.kind'),
          mappings: {
            platform: t('incidents.platform'),
            gateway: t('incidents.gateway'),
            segment: t('incidents.segment'),
            site: t('incidents.site'),
          },
        },
        cause: { name: t('incidents.cause') },
        state: {
          name: t('columns.state'),
          mappings: { open: t('incidents.open'), resolved: t('incidents.resolved') },
        },
        members: { name: t('incidents.members') },
        title: { name: t('columns.title') },
      },
      sortBy: { column: 'Time', desc: true },
    },
  );
}

function districtStanding(c: Context): dashboard.DashboardBuilder {
  const { t, language } = c;
  return base(c, 'peakwatch-district-standing', {
    title: t('standing.title'),
    description: t('standing.description'),
  })
    .withPanel(
      tableOf(
        t('standing.sites.title'),
        // each site and rule's latest evaluation whole (a later one without a value does not keep an older margin)
        `SELECT "margin" AS "margin", "value" AS "value", "threshold" AS "threshold", "completeness" AS "completeness", "state" AS "state", "${titleField(language)}" AS "title" FROM "standing" WHERE ${DISTRICT} AND ${SITE} AND $timeFilter GROUP BY "district", "site", "rule" ORDER BY time DESC LIMIT 1`,
        {
          height: 16,
          description: t('standing.sites.description'),
          columns: {
            ...columns(t),
            ...alertColumns(t),
            margin: { name: t('standing.sites.margin') },
          },
          sortBy: { column: 'margin', desc: true },
        },
      ),
    )
    .withPanel(incidents(c));
}

function deviceHealth(c: Context): dashboard.DashboardBuilder {
  const { policy, t } = c;
  return base(c, 'peakwatch-device-health', {
    title: t('deviceHealth.title'),
    description: t('deviceHealth.description'),
  })
    .withPanel(
      tableOf(
        t('deviceHealth.lastSeen.title'),
        `SELECT last("seq") AS "seq" FROM "telemetry" WHERE ${SITE} AND $timeFilter GROUP BY "site", "device"`,
        {
          columns: {
            ...columns(t),
            Time: { name: t('deviceHealth.lastSeen.time') },
            seq: { name: t('deviceHealth.lastSeen.seq') },
          },
        },
      ),
    )
    .withPanel(
      timeSeries(
        t('deviceHealth.completeness.title'),
        {
          query: kpi('"completeness" AS "completeness"', { name: 'energy_kwh', period: '1d' }),
          legend: t('deviceHealth.completeness.legend'),
        },
        { unit: 'percentunit', limits: [limit(policy, 'online-monitoring-completeness', 'orange')] },
      ),
    )
    .withPanel(
      timeSeries(
        t('deviceHealth.rejected.title'),
        {
          query: `SELECT sum("count") AS "rejected" FROM "ingest_reject" WHERE $timeFilter GROUP BY time($__interval), "reason" fill(0)`,
          legend: t('deviceHealth.rejected.legend'),
        },
        { unit: 'none' },
      ),
    )
    .withPanel(
      timeSeries(
        t('deviceHealth.late.title'),
        {
          query: `SELECT sum("readings") AS "late_readings" FROM "ingest_late" WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), "site" fill(0)`,
          legend: t('deviceHealth.late.legend'),
        },
        { unit: 'none', width: 24 },
      ),
    )
    .withPanel(incidents(c));
}

/**
 * Every dashboard in one language, by file name under seeds/grafana/dashboards/<language>: each generated by the same
 * code in every language, its texts from texts.ts. A missing text throws (`MissingTranslationError`); `texts` is for
 * the spec, which takes texts away.
 */
export function dashboards(
  policy: PolicyData,
  language: Language,
  texts: unknown = DASHBOARD_TEXTS,
): Record<string, dashboard.Dashboard> {
  const c: Context = { policy, language, t: dashboardTexts(language, texts) };
  return {
    'facility-overview.json': facilityOverview(c).build(),
    'data-centre.json': dataCentre(c).build(),
    'renewables.json': renewables(c).build(),
    'buildings.json': buildings(c).build(),
    'cost-and-peaks.json': costAndPeaks(c).build(),
    'demand-response.json': demandResponse(c).build(),
    'alerts.json': alerts(c).build(),
    'device-health.json': deviceHealth(c).build(),
    'district-standing.json': districtStanding(c).build(),
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

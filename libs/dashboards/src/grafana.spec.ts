import { readFileSync, readdirSync } from 'node:fs';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { join } from 'node:path';
import { LANGUAGES, MEASUREMENTS, MissingTranslationError, type Language } from '@peakwatch/contracts';
import { loadPolicyData } from '@peakwatch/policy';
import { parse } from 'yaml';
import { z } from 'zod';
import { dashboardQueries, dashboards } from './dashboards';
import { DATASOURCE } from './influxql';
import { GRAFANA_DASHBOARDS_PATH, grafanaFiles } from './provisioning';
import { DASHBOARD_TEXTS, dashboardTexts, textKeys } from './texts';

const SEEDS = join(__dirname, '../../../seeds');
const policy = loadPolicyData(SEEDS);

/** Grafana's provisioning file formats (grafana.com/docs/grafana/latest/administration/provisioning). */
const datasourceFile = z
  .object({
    apiVersion: z.literal(1),
    datasources: z
      .array(
        z.object({
          name: z.string().min(1),
          uid: z.string().min(1),
          type: z.literal('influxdb'),
          access: z.enum(['proxy', 'direct']),
          url: z.string().min(1),
          isDefault: z.boolean(),
          editable: z.boolean(),
          jsonData: z.object({
            dbName: z.string().min(1),
            httpMode: z.enum(['GET', 'POST']),
            timeInterval: z.string(),
            httpHeaderName1: z.literal('Authorization'),
          }),
          secureJsonData: z.object({ httpHeaderValue1: z.string().startsWith('Token ') }),
        }),
      )
      .length(1),
  })
  .strict();
const providerFile = z
  .object({
    apiVersion: z.literal(1),
    providers: z
      .array(
        z.object({
          name: z.string().min(1),
          orgId: z.number().int(),
          folder: z.string(),
          type: z.literal('file'),
          disableDeletion: z.boolean(),
          allowUiUpdates: z.boolean(),
          updateIntervalSeconds: z.number().int().positive(),
          options: z.object({ path: z.string().startsWith('/') }).strict(),
        }),
      )
      .length(LANGUAGES.length),
  })
  .strict();

/** A CJK unified ideograph: a text a Chinese reader reads has at least one. */
const CJK = /\p{Script=Han}/u;

/**
 * Every text of a generated dashboard that a person reads, by where it is: the dashboard's title and description, the
 * variables' labels, the annotations' names, each panel's title, description, legends, column names and value
 * mappings.
 */
function personRead(board: ReturnType<typeof dashboards>[string]): [string, string][] {
  const out: [string, string][] = [
    ['title', board.title ?? ''],
    ['description', board.description ?? ''],
  ];
  for (const v of board.templating.list ?? []) out.push([`variable ${v.name}`, v.label ?? '']);
  for (const a of board.annotations?.list ?? []) out.push(['annotation', a.name]);
  for (const panel of (board.panels ?? []) as dashboard.Panel[]) {
    const at = `panel "${panel.title}"`;
    out.push([at, panel.title ?? '']);
    if (panel.description) out.push([`${at} description`, panel.description]);
    for (const target of (panel.targets ?? []) as unknown as { alias?: string; resultFormat: string }[])
      if (target.resultFormat === 'time_series') out.push([`${at} legend`, target.alias ?? '']);
    for (const override of panel.fieldConfig?.overrides ?? [])
      for (const property of override.properties) {
        if (property.id === 'displayName') out.push([`${at} column`, String(property.value)]);
        if (property.id === 'mappings')
          for (const mapping of property.value as dashboard.ValueMapping[]) {
            const results =
              mapping.type === ('value' as dashboard.MappingType.ValueToText)
                ? Object.values(mapping.options)
                : [(mapping.options as { result: dashboard.ValueMappingResult }).result];
            for (const result of results) out.push([`${at} value`, result.text ?? '']);
          }
      }
  }
  return out;
}

/** A deep copy of the texts without one key (`a.b.c`) in one language. */
function without(language: Language, key: string): unknown {
  const copy = structuredClone(DASHBOARD_TEXTS) as unknown as Record<string, Record<string, unknown>>;
  const path = key.split('.');
  let node = copy[language]!;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string, unknown>;
  delete node[path.at(-1)!];
  return copy;
}

const boardsOf = Object.fromEntries(
  LANGUAGES.map((l) => [l, Object.entries(dashboards(policy, l))]),
) as Record<Language, [string, ReturnType<typeof dashboards>[string]][]>;
const boards = LANGUAGES.flatMap((l) => boardsOf[l].map(([name, board]) => [`${l}/${name}`, board] as const));

describe('Grafana provisioning (seeds/grafana)', () => {
  it('is committed exactly as the code generates it (run `npm run dashboards` after a change)', () => {
    const files = grafanaFiles(policy);
    for (const [path, content] of files)
      expect(readFileSync(join(SEEDS, 'grafana', path), 'utf8')).toBe(content);
    // one folder per language, and nothing stale beside the generated files
    const dir = join(SEEDS, 'grafana', 'dashboards');
    expect(readdirSync(dir).sort()).toEqual([...LANGUAGES].sort());
    for (const language of LANGUAGES)
      expect(readdirSync(join(dir, language)).sort()).toEqual(
        [...files.keys()]
          .filter((p) => p.startsWith(join('dashboards', language, '/')))
          .map((p) => p.slice(join('dashboards', language, '/').length))
          .sort(),
      );
  });

  it('has provisioning files that parse and match their schema: a Grafana folder per language, zh-CN first', () => {
    const read = (path: string): unknown =>
      parse(readFileSync(join(SEEDS, 'grafana', 'provisioning', path), 'utf8'));
    const datasources = datasourceFile.parse(read('datasources/peakwatch.yaml'));
    expect(datasources.datasources[0]).toMatchObject({ uid: DATASOURCE.uid, url: '$INFLUX_URL' });
    expect(datasources.datasources[0]!.jsonData.dbName).toBe('peakwatch');
    const { providers } = providerFile.parse(read('dashboards/peakwatch.yaml'));
    expect(providers.map((p) => [p.name, p.folder, p.options.path])).toEqual([
      ['peakwatch', 'PeakWatch', `${GRAFANA_DASHBOARDS_PATH}/zh-CN`],
      ['peakwatch-en', 'PeakWatch (English)', `${GRAFANA_DASHBOARDS_PATH}/en`],
    ]);
  });

  it('has 9 dashboards per language, each with a uid unique across both: the zh-CN ones keep theirs, en adds -en', () => {
    for (const language of LANGUAGES) expect(boardsOf[language].length).toBe(9);
    expect(new Set(boards.map(([, b]) => b.uid)).size).toBe(boards.length);
    const uids = (language: Language): string[] => boardsOf[language].map(([, b]) => b.uid!);
    expect(uids('zh-CN')).toContain('peakwatch-facility');
    expect(uids('en')).toEqual(uids('zh-CN').map((uid) => `${uid}-en`));
    // the same files, the same panels and the same queries in both languages, except the title field of alerts,
    // standings and incidents
    expect(boardsOf.en.map(([name]) => name)).toEqual(boardsOf['zh-CN'].map(([name]) => name));
    for (const [i, [, zh]] of boardsOf['zh-CN'].entries())
      expect(dashboardQueries(boardsOf.en[i]![1]).map((q) => q.query)).toEqual(
        dashboardQueries(zh).map((q) =>
          q.query
            .replace('SELECT "title_zh" AS', 'SELECT "title" AS')
            .replace(', "title_zh" AS', ', "title" AS'),
        ),
      );
  });

  it('gives every dashboard the site and district variables, and the provisioned data source', () => {
    for (const [, board] of boards) {
      expect(board.templating.list?.map((v) => v.name)).toEqual(['district', 'site']);
      for (const panel of board.panels ?? []) expect(panel).toMatchObject({ datasource: DATASOURCE });
      const queries = dashboardQueries(board);
      expect(queries.length).toBeGreaterThanOrEqual(board.panels!.length); // every panel has a query
      for (const panel of board.panels ?? []) {
        const title = 'title' in panel ? panel.title : '';
        const refIds = queries.filter((q) => q.name.startsWith(`${title} (`)).map((q) => q.refId);
        expect(refIds.length).toBeGreaterThan(0);
        expect(new Set(refIds).size).toBe(refIds.length);
      }
    }
  });

  it('aliases every selected value (the columns the query test checks)', () => {
    for (const [, board] of boards) {
      for (const { query } of dashboardQueries(board)) {
        const selected = /^SELECT (.+?) FROM /.exec(query)![1]!;
        for (const item of selected.split(/,(?![^(]*\))/)) expect(item.trim()).toMatch(/ AS "\w+"$/);
      }
    }
  });

  it('reads only the measurements of the contracts', () => {
    const known = new Set<string>(Object.values(MEASUREMENTS));
    const read = boards.flatMap(([, board]) =>
      dashboardQueries(board).map((q) => /\bFROM "(\w+)"/.exec(q.query)![1]!),
    );
    expect(read.filter((m) => !known.has(m))).toEqual([]);
    expect(read).toContain(MEASUREMENTS.incident);
  });

  it('draws the policy limits from seeds/policy', () => {
    for (const language of LANGUAGES) {
      const dc = boardsOf[language].find(([name]) => name === 'data-centre.json')![1];
      const steps = (
        dc.panels![0] as { fieldConfig: { defaults: { thresholds: { steps: { value: number | null }[] } } } }
      ).fieldConfig.defaults.thresholds.steps.map((s) => s.value);
      expect(steps).toEqual([null, 1.3, 1.35]); // new data centres 1.3; existing ones 1.35 from 2026
    }
  });
});

describe('Dashboards in zh-CN and en (docs/glossary.md)', () => {
  const keys = textKeys(DASHBOARD_TEXTS.en);

  it('has exactly the same text keys in both languages', () => {
    expect(textKeys(DASHBOARD_TEXTS['zh-CN']).sort()).toEqual([...keys].sort());
  });

  it.each(LANGUAGES)(
    'fails to render in %s when any one text is missing (and so uses every text)',
    (language) => {
      // the provisioning names the Grafana folder; every other text is a dashboard's
      for (const key of keys.filter((k) => k !== 'folder')) {
        expect(() => dashboards(policy, language, without(language, key))).toThrow(MissingTranslationError);
        expect(() => dashboards(policy, language, without(language, key))).toThrow(`"${key}"`);
      }
      expect(() => dashboardTexts(language, without(language, 'folder'))('folder')).toThrow(
        MissingTranslationError,
      );
    },
  );

  it('fails on a language without texts, and on an empty text', () => {
    expect(() => dashboards(policy, 'en', { 'zh-CN': DASHBOARD_TEXTS['zh-CN'] })).toThrow(
      MissingTranslationError,
    );
    const empty = structuredClone(DASHBOARD_TEXTS) as { en: { alerts: { title: string } } };
    empty.en.alerts.title = ' ';
    expect(() => dashboards(policy, 'en', empty)).toThrow('no en dashboard text for "alerts.title"');
  });

  it('has a Chinese text for every English one, never the English sentence (except the product name)', () => {
    const zh = dashboardTexts('zh-CN');
    const en = dashboardTexts('en');
    const properNames = ['folder']; // PeakWatch
    for (const key of keys as Parameters<typeof zh>[0][]) {
      if (properNames.includes(key)) continue;
      expect([key, zh(key)]).not.toEqual([key, en(key)]);
      expect([key, CJK.test(zh(key))]).toEqual([key, true]);
    }
  });

  it('renders every text a person reads on a zh-CN dashboard in Chinese, and none as a key', () => {
    for (const [name, board] of boardsOf['zh-CN'])
      for (const [where, text] of personRead(board))
        expect([name, where, text, CJK.test(text)]).toEqual([name, where, text, true]);
    for (const [name, board] of boards)
      for (const [where, text] of personRead(board)) {
        expect([name, where, text.trim() !== '']).toEqual([name, where, true]);
        expect([name, where, /^[a-z]\w*(\.\w+)+$/.test(text)]).toEqual([name, where, false]);
      }
  });

  it.each(LANGUAGES)(
    'shows the incidents on the District standing and Device health dashboards in %s',
    (language) => {
      const t = dashboardTexts(language);
      for (const file of ['district-standing.json', 'device-health.json']) {
        const board = boardsOf[language].find(([name]) => name === file)![1];
        const panel = board.panels!.find((p) => 'title' in p && p.title === t('incidents.title'))!;
        const { query } = dashboardQueries(board).find((q) =>
          q.name.startsWith(`${t('incidents.title')} (`),
        )!;
        expect(query).toContain('FROM "incident"');
        expect(query).toContain(language === 'zh-CN' ? '"title_zh" AS "title"' : ' "title" AS "title"');
        expect(query).toMatch(/GROUP BY "incident", "kind", "cause", "site" ORDER BY time DESC LIMIT 1$/);
        const text = personRead({ ...board, panels: [panel] })
          .filter(([where]) => where.endsWith('value'))
          .map(([, value]) => value);
        expect(text).toEqual([
          t('incidents.platform'),
          t('incidents.gateway'),
          t('incidents.segment'),
          t('incidents.site'),
          t('incidents.open'),
          t('incidents.resolved'),
        ]);
      }
    },
  );
});

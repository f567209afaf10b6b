import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicyData } from '@peakwatch/policy';
import { parse } from 'yaml';
import { z } from 'zod';
import { dashboardQueries, dashboards } from './dashboards';
import { DATASOURCE } from './influxql';
import { grafanaFiles } from './provisioning';

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
      .length(1),
  })
  .strict();

describe('Grafana provisioning (seeds/grafana)', () => {
  it('is committed exactly as the code generates it (run `npm run dashboards` after a change)', () => {
    const files = grafanaFiles(policy);
    for (const [path, content] of files)
      expect(readFileSync(join(SEEDS, 'grafana', path), 'utf8')).toBe(content);
    // and nothing stale beside it
    expect(readdirSync(join(SEEDS, 'grafana', 'dashboards')).sort()).toEqual(
      [...files.keys()]
        .filter((p) => p.startsWith('dashboards'))
        .map((p) => p.slice('dashboards/'.length))
        .sort(),
    );
  });

  it('has provisioning files that parse and match their schema', () => {
    const read = (path: string): unknown =>
      parse(readFileSync(join(SEEDS, 'grafana', 'provisioning', path), 'utf8'));
    const datasources = datasourceFile.parse(read('datasources/peakwatch.yaml'));
    expect(datasources.datasources[0]).toMatchObject({ uid: DATASOURCE.uid, url: '$INFLUX_URL' });
    expect(datasources.datasources[0]!.jsonData.dbName).toBe('peakwatch');
    providerFile.parse(read('dashboards/peakwatch.yaml'));
  });

  const boards = Object.entries(dashboards(policy));

  it('gives every dashboard its own uid, the site and district variables, and the provisioned data source', () => {
    expect(new Set(boards.map(([, b]) => b.uid)).size).toBe(boards.length);
    expect(boards.length).toBe(9);
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

  it('draws the policy limits from seeds/policy', () => {
    const dc = boards.find(([name]) => name === 'data-centre.json')![1];
    const steps = (
      dc.panels![0] as { fieldConfig: { defaults: { thresholds: { steps: { value: number | null }[] } } } }
    ).fieldConfig.defaults.thresholds.steps.map((s) => s.value);
    expect(steps).toEqual([null, 1.3, 1.35]); // new data centres 1.3; existing ones 1.35 from 2026
  });
});

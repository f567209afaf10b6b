import { ALERTS_APP } from '@peakwatch/alerts';
import { ANALYTICS_APP } from '@peakwatch/analytics';
import { API_APP } from '@peakwatch/api';
import { INGEST_APP } from '@peakwatch/ingest';
import { REPORTS_APP } from '@peakwatch/reports';
import type { AppDefinition } from '@peakwatch/runtime';

/** Every app, composed into the one all-in-one process that `peakwatch start` and the demo run. */
export const ALL_APPS: readonly AppDefinition[] = [
  INGEST_APP,
  ANALYTICS_APP,
  ALERTS_APP,
  REPORTS_APP,
  API_APP,
];

import type { Migration } from 'kysely';
import * as m0001 from './0001-state-info';
import * as m0002 from './0002-device-credentials';
import * as m0003 from './0003-api-keys';
import * as m0004 from './0004-alerts';
import * as m0005 from './0005-reports';
import * as m0006 from './0006-provisioned-devices';
import * as m0007 from './0007-report-inputs';
import * as m0008 from './0008-audit-log';
import * as m0009 from './0009-outbox';
import * as m0010 from './0010-job-lease';
import * as m0011 from './0011-job-lease-result';
import * as m0012 from './0012-import-batch';
import * as m0013 from './0013-dr-event';
import * as m0014 from './0014-report-causes';
import * as m0015 from './0015-allowance';
import * as m0016 from './0016-incidents';
import * as m0017 from './0017-outage-replica';

/**
 * Versioned migrations, applied in name order at start-up by every process (Kysely's migrator takes a lock, so
 * concurrent starts are safe). Never edit a released migration; add the next number. Written with Kysely's schema
 * builder so the same migration runs on SQLite and PostgreSQL.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001-state-info': m0001,
  '0002-device-credentials': m0002,
  '0003-api-keys': m0003,
  '0004-alerts': m0004,
  '0005-reports': m0005,
  '0006-provisioned-devices': m0006,
  '0007-report-inputs': m0007,
  '0008-audit-log': m0008,
  '0009-outbox': m0009,
  '0010-job-lease': m0010,
  '0011-job-lease-result': m0011,
  '0012-import-batch': m0012,
  '0013-dr-event': m0013,
  '0014-report-causes': m0014,
  '0015-allowance': m0015,
  '0016-incidents': m0016,
  '0017-outage-replica': m0017,
};

import { stopSharedPostgres } from './postgres';

// Integration specs start real servers; a generous per-test limit keeps a slow machine from failing them.
// (Jest ignores `testTimeout` in a project's own config, hence this setup file.)
jest.setTimeout(120_000);

// The PostgreSQL a spec file's apps used as their state store (PEAKWATCH_TEST_STATE_STORE=postgres), if any.
afterAll(() => stopSharedPostgres());

// Integration specs start real servers; a generous per-test limit keeps a slow machine from failing them.
// (Jest ignores `testTimeout` in a project's own config, hence this setup file.)
jest.setTimeout(120_000);

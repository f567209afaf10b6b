import packageJson from '../../../package.json';

/** The PeakWatch version, from package.json. */
export const PEAKWATCH_VERSION: string = packageJson.version;

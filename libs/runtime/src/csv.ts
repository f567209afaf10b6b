/**
 * A CSV cell for a file a person opens in a spreadsheet: always quoted, and never read as a formula (a cell that starts
 * with = + - @ or a control character, or has one after a separator that some locales split on, gets a quote mark).
 */
export function csvCell(s: string): string {
  return `"${(/^[=+\-@\t\r]/.test(s) ? `'${s}` : s).replace(/([,;\t])([=+\-@])/g, "$1'$2").replaceAll('"', '""')}"`;
}

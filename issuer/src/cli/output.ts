/**
 * CLI output: aligned tables for people, JSON for scripts.
 */

/** Prints `rows` as a table with the given columns, or as JSON. */
export function printRows(rows: Array<Record<string, unknown>>, columns: string[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}

/** Prints one record as `field  value` lines, or as JSON. */
export function printRecord(record: Record<string, unknown>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  for (const [k, v] of Object.entries(record)) {
    process.stdout.write(`${k.padEnd(width)}  ${v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
  }
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of `values`: the lowest bar for 0, the highest for the largest value. */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (v <= 0 || max === 0 ? BARS[0] : BARS[1 + Math.round((v / max) * (BARS.length - 2))])).join('');
}

/** Prints the outcome of a command the issuer answers with no body: `record` as JSON, or `line` for people. */
export function printOutcome(record: Record<string, unknown>, line: string, json: boolean): void {
  if (json) printRecord(record, json);
  else process.stdout.write(`${line}\n`);
}

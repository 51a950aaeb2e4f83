/**
 * What the fault suite shares across its cases, on purpose: one directory per run that collects
 * every process's log (case 9 scans them all), the secrets the suite handled (so the scan knows
 * what must never appear), and the figures each case measured (printed as they are taken and
 * again, together, at the end of the run).
 */
import { appendFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** This run's directory; `AKM_FAULTS_DIR` keeps it somewhere known. */
export const RUN_DIR = process.env.AKM_FAULTS_DIR ?? mkdtempSync(join(tmpdir(), 'akm-faults-'));
/** Every issuer and verifier process of the run writes its log here. */
export const LOG_DIR = join(RUN_DIR, 'logs');
mkdirSync(LOG_DIR, { recursive: true });

/** The password of every `admin` the suite bootstraps (long enough for the issuer's rule). */
export const ADMIN_PASSWORD = `faults-admin-${Math.random().toString(36).slice(2)}-pw`;

const secrets = new Map<string, string>();
secrets.set(ADMIN_PASSWORD, 'admin password');

/** Remembers a credential the suite handled; no log line may ever contain it. */
export function rememberSecret(value: string, kind: string): void {
  if (value.length >= 12) secrets.set(value, kind);
}

/** Every credential remembered so far, with what it is. */
export function secretsSoFar(): ReadonlyMap<string, string> {
  return secrets;
}

/** One measured figure of a case. */
export interface Figure {
  case: number;
  name: string;
  value: number | string;
  unit?: string;
}

const figures: Figure[] = [];

/** Records (and prints) a figure the suite measured; the failure-modes doc quotes them. */
export function reportFigure(figure: Figure): void {
  figures.push(figure);
  const line = `case ${figure.case}: ${figure.name} = ${figure.value}${figure.unit ? ` ${figure.unit}` : ''}`;
  console.log(`      [figure] ${line}`);
  appendFileSync(join(RUN_DIR, 'figures.txt'), `${line}\n`);
}

/** Every figure recorded so far. */
export function figuresSoFar(): readonly Figure[] {
  return figures;
}

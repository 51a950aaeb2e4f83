/**
 * What a key is, as the API shows it: owner, role, status, scopes, every rate limit, credits,
 * lifetime and its roll (the key it was rolled to or replaces, and when a rolled key stops).
 */
import { api, query } from '../api.js';
import { h, when } from '../dom.js';
import type { Key, Usage } from '../types.js';
import { badge, keyLink } from './common.js';
import { unitOf } from './limits-editor.js';

/** A window as words: `minute`, `10 seconds`, `day`. */
function windowText(seconds: number): string {
  const [size, unit] = unitOf(seconds);
  const n = seconds / size;
  return n === 1 ? unit : `${n} ${unit}s`;
}

/** Start of the UTC day or month that `ms` falls in, milliseconds. */
function periodStart(ms: number, interval: 'day' | 'month'): number {
  const d = new Date(ms);
  return interval === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * About how many credits a key has left: what was granted (or refilled to, since the last refill)
 * less the requests served since, as the verifiers have reported them to the issuer (every few
 * seconds, by the minute). The verifiers' own count (`/key/info`) is the exact one.
 */
export async function creditsLeft(base: string, credits: NonNullable<Key['credits']>): Promise<number> {
  const granted = Date.parse(credits.grantedAt);
  const refilled = credits.refill ? periodStart(Date.now(), credits.refill.interval) : 0;
  const since = Math.max(granted, refilled);
  const start = refilled > granted ? credits.refill!.amount : credits.granted;
  const from = new Date(Math.floor(since / 60_000) * 60_000).toISOString();
  const usage = await api<Usage>('GET', `${base}/usage${query({ from })}`);
  return Math.max(0, start - usage.totals.served);
}

function creditsText(credits: Key['credits'], left: HTMLElement): Node | string {
  if (!credits) return 'unlimited';
  const refill = credits.refill ? `, refilled to ${credits.refill.amount} each UTC ${credits.refill.interval}` : '';
  return h('span', {}, `${credits.granted} granted ${when(credits.grantedAt)}${refill}; `, left);
}

/** The list of `key`'s facts; `left` is where the credits left go (filled in by the caller). */
export function keyFacts(key: Key, left: HTMLElement): HTMLElement {
  const facts: Array<[string, Node | string]> = [
    ['Id', h('span', { class: 'mono' }, key.id)],
    ['Owner', key.sub],
    ['Role', key.role],
    ['Status', badge(key.status)],
    ['Scopes', key.scopes.length ? h('span', { class: 'scopes' }, ...key.scopes.map((s) => h('code', { class: 'scope' }, s))) : 'none'],
    ['Rate limits', h('ul', { class: 'plain' }, ...key.limits.map((l) => h('li', { 'data-limit': l.name }, `${l.name}: ${l.limit} per ${windowText(l.windowSeconds)}`)))],
    ['Credits', creditsText(key.credits, left)],
    ['Expires', when(key.expiresAt)],
  ];
  if (key.revokeAt) facts.push(['Stops working', when(key.revokeAt)]);
  if (key.rolledTo) facts.push(['Rolled to', keyLink(key.rolledTo, key.rolledTo)]);
  if (key.rolledFrom) facts.push(['Replaces', keyLink(key.rolledFrom, key.rolledFrom)]);
  facts.push(['Created', when(key.createdAt)], ['Changed', when(key.updatedAt)]);
  return h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k.toLowerCase() }, v)]));
}

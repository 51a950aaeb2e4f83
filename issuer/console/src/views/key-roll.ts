/**
 * Rolling a key from its page (an admin any key, a user their own through `/me`): asks the grace
 * period, shows the new key string this once and when the old key stops working.
 */
import { api } from '../api.js';
import { confirmAction, h, when } from '../dom.js';
import type { CreatedKey, Key } from '../types.js';
import { numberOf, problem, type Notice } from './common.js';
import { shownOnce } from './shown-once.js';

/** The grace the form starts with, seconds: the API has no default (it must be said). */
const GRACE_SECONDS = 3600;

/**
 * The Roll button of the key at `base` (its API path); `refresh` draws the page again and
 * answers the key as it is now.
 */
export function rollButton(base: string, messages: Notice, refresh: () => Promise<Key | undefined>): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        const grace = h('input', { type: 'number', value: GRACE_SECONDS });
        const asked = await confirmAction(
          'Roll this key? A new key is issued with the same owner, role, scopes, limits and credits, shown once. ' +
            'This key keeps working for the grace period (0: it stops now; at most 7 days, never past its expiry).',
          'Roll',
          h('label', {}, 'Grace period (seconds)', grace),
        );
        if (!asked) return;
        try {
          const created = await api<CreatedKey>('POST', `${base}/roll`, { graceSeconds: numberOf(grace) });
          // The new key first: whatever happens to the page's refresh, it is shown.
          const stops = h('strong', { 'data-old-stops': '' });
          messages.show(shownOnce(created, `Rolled: the new key for ${created.sub}`, h('p', {}, 'The old key stops working ', stops, '.')));
          stops.textContent = when((await refresh())?.revokeAt);
        } catch (err) {
          messages.show(problem(err));
        }
      },
    },
    'Roll',
  );
}

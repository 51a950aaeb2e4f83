import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLogger, type KeyEvent, type KeyEventPublisher } from '@akm/common';
import { createOutboxRelay, type OutboxRelay } from '../../src/events/outbox-relay.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { createSqliteClient } from '../../src/store/sqlite-client.js';
import { createOutboxRepository } from '../../src/store/outbox-repository.js';
import { waitFor } from '../../../test/support/processes.js';

/** Refusals the test watches before it stops the relay itself. */
const ATTEMPTS = 6;

/**
 * While the bus refuses every publish, the relay waits longer and longer between tries (50 ms,
 * doubling, up to its maximum) instead of hammering the bus and the CPU. The bus here refuses at
 * once and notes when each try came; after six it stops the relay itself, so that a relay that
 * retries without waiting (a loop of settled promises, which no timer can interrupt) ends the
 * test with a failure instead of hanging the suite.
 */
describe('outbox relay: back-off while the bus refuses', () => {
  let dir: string;
  let db: Db | undefined;
  let relay: OutboxRelay | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'akm-backoff-'));
  });
  afterEach(async () => {
    await relay?.stop();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits at least 50, 100, 200, 400, 400 ms between its first six tries (maximum 400 ms)', async () => {
    db = openDatabase({ dataDir: dir });
    const outbox = createOutboxRepository(createSqliteClient(db));
    const at = Date.now();
    const event: KeyEvent = {
      v: 2, type: 'key.created', id: 'evt-1', keyId: 'key-1', sub: 'alice', role: 'user', status: 'active',
      rateLimit: 10, expiresAt: Math.floor(at / 1000) + 600, version: 1, at: Math.floor(at / 1000),
    };
    await outbox.add(event, at);
    const tries: number[] = [];
    const refusing: KeyEventPublisher = {
      async publish() {
        tries.push(performance.now());
        if (tries.length >= ATTEMPTS) void relay?.stop();
        throw new Error('bus down');
      },
      isConnected: () => false,
      async close() {},
    };
    relay = createOutboxRelay({
      outbox, publisher: refusing, now: Date.now, maxBackoffMs: 400,
      logger: createLogger({ name: 'relay-test', level: 'silent' }),
    });

    relay.start();
    await waitFor(() => tries.length >= ATTEMPTS, 10_000);

    const gaps = tries.slice(1).map((t, i) => t - tries[i]!);
    // Lower bounds only: a busy machine makes the waits longer, never shorter (1 ms of timer slack).
    const least = [50, 100, 200, 400, 400];
    expect(gaps.length).to.equal(least.length);
    gaps.forEach((gap, i) => expect(gap, `wait before try ${i + 2}: ${gaps.map(Math.round).join(', ')} ms`).to.be.at.least(least[i]! - 1));
    expect(await outbox.backlog(), 'nothing was marked sent').to.equal(1);
  });
});

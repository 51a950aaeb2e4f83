/**
 * Sends the calls of one Redis command made during one turn of the event loop as a single
 * pipeline. Counting a request in Redis costs a write and a read on the Redis socket, for the
 * verifier and for Redis alike; requests that arrive together (several connections readable in
 * the same turn) now share them. Each call still gets its own answer from Redis before its
 * request is answered, and the command (an atomic script) is unchanged.
 */
import type { Redis } from 'ioredis';

interface Pending {
  args: unknown[];
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type CommandFn = (...args: unknown[]) => Promise<unknown>;

/**
 * A view of `redis` in which `command` (one defined with `defineCommand`, or any built-in) is
 * batched: calls are queued and sent at the end of the current event-loop turn (`setImmediate`),
 * one pipeline per turn. Every other member is the client's own. Timeouts and the offline
 * behaviour of the client apply to each queued call as before.
 */
export function batchCommand(redis: Redis, command: string): Redis {
  let queue: Pending[] = [];

  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      (redis as unknown as Record<string, CommandFn>)[command]!(...only.args).then(only.resolve, only.reject);
      return;
    }
    const pipeline = redis.pipeline() as unknown as Record<string, CommandFn> & ReturnType<Redis['pipeline']>;
    for (const call of batch) pipeline[command]!(...call.args);
    pipeline.exec().then(
      (results) => {
        batch.forEach((call, i) => {
          const [err, value] = results?.[i] ?? [new Error('no answer from the Redis pipeline'), undefined];
          if (err) call.reject(err);
          else call.resolve(value);
        });
      },
      (err: unknown) => batch.forEach((call) => call.reject(err)),
    );
  };

  const batched: CommandFn = (...args) =>
    new Promise((resolve, reject) => {
      if (queue.push({ args, resolve, reject }) === 1) setImmediate(flush);
    });

  return new Proxy(redis, {
    get(target, prop) {
      if (prop === command) return batched;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

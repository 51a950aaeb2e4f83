/**
 * A binary min-heap of (due time, id): the key-state store pops what is due without scanning.
 * Entries are never updated in place; a newer entry for the same id supersedes the older one,
 * which the caller recognises as stale when it pops.
 */

/** One scheduled drop: `id` is due at `at` (milliseconds since epoch). */
export interface DueEntry {
  at: number;
  id: string;
}

/** A min-heap ordered by `at`. */
export class ExpiryHeap {
  #items: DueEntry[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Adds an entry; O(log n). */
  push(entry: DueEntry): void {
    const items = this.#items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= items[i]!.at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  /** Removes and returns the earliest entry if it is due at or before `now`; O(log n). */
  popDue(now: number): DueEntry | undefined {
    const items = this.#items;
    const top = items[0];
    if (!top || top.at > now) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  /** Rebuilds the heap keeping only entries for which `keep` holds (O(n), used rarely). */
  retain(keep: (entry: DueEntry) => boolean): void {
    this.#items = this.#items.filter(keep);
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  #siftDown(start: number): void {
    const items = this.#items;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && items[left]!.at < items[smallest]!.at) smallest = left;
      if (right < items.length && items[right]!.at < items[smallest]!.at) smallest = right;
      if (smallest === i) return;
      [items[smallest], items[i]] = [items[i]!, items[smallest]!];
      i = smallest;
    }
  }
}

/**
 * A binary min-heap of (due time, slot): the key-state store pops what is due without scanning.
 * Entries are never updated in place; a newer entry for the same slot supersedes the older one,
 * which the caller recognises as stale when it pops. Held in two parallel typed arrays (12 bytes
 * an entry, no object per entry), because a verifier holds one entry per live key.
 */

/** A min-heap of `(at, slot)` ordered by `at` (milliseconds since epoch). */
export class ExpiryHeap {
  #at = new Float64Array(1024);
  #slot = new Int32Array(1024);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Due time of the earliest entry, or `Infinity` when empty. */
  peekAt(): number {
    return this.#size > 0 ? this.#at[0]! : Infinity;
  }

  /** Slot of the earliest entry; only meaningful when not empty. */
  peekSlot(): number {
    return this.#slot[0]!;
  }

  /** Adds an entry; O(log n) (amortised: the arrays grow by half when full). */
  push(at: number, slot: number): void {
    if (this.#size === this.#at.length) this.#resize(Math.ceil(this.#size * 1.5));
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at[parent]! <= at) break;
      this.#at[i] = this.#at[parent]!;
      this.#slot[i] = this.#slot[parent]!;
      i = parent;
    }
    this.#at[i] = at;
    this.#slot[i] = slot;
  }

  /** Removes the earliest entry; O(log n). */
  pop(): void {
    if (this.#size === 0) return;
    const last = --this.#size;
    if (last > 0) this.#place(0, this.#at[last]!, this.#slot[last]!);
  }

  /** Keeps only the entries for which `keep` holds (O(n), used rarely), and gives back spare room. */
  retain(keep: (at: number, slot: number) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.#size; i++) {
      if (!keep(this.#at[i]!, this.#slot[i]!)) continue;
      this.#at[n] = this.#at[i]!;
      this.#slot[n] = this.#slot[i]!;
      n++;
    }
    this.#size = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#place(i, this.#at[i]!, this.#slot[i]!);
    if (this.#at.length > 2 * n + 1024) this.#resize(Math.ceil(n * 1.5) + 1024);
  }

  /** Sifts `(at, slot)` down from `start` into place. */
  #place(start: number, at: number, slot: number): void {
    const size = this.#size;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.#at[child + 1]! < this.#at[child]!) child++;
      if (this.#at[child]! >= at) break;
      this.#at[i] = this.#at[child]!;
      this.#slot[i] = this.#slot[child]!;
      i = child;
    }
    this.#at[i] = at;
    this.#slot[i] = slot;
  }

  #resize(capacity: number): void {
    const at = new Float64Array(capacity);
    const slot = new Int32Array(capacity);
    at.set(this.#at.subarray(0, this.#size));
    slot.set(this.#slot.subarray(0, this.#size));
    this.#at = at;
    this.#slot = slot;
  }
}

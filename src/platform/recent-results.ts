/**
 * The last `capacity` results of a pure computation, by key: for work repeated on the same few
 * inputs, such as parsing the phone numbers of the users signing in right now. The oldest entry
 * goes first when full, so hostile inputs can only push out entries, never grow the memory.
 */
export class RecentResults<T> {
  private readonly results = new Map<string, T>();

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.results.has(key);
  }

  get(key: string, compute: () => T): T {
    if (this.results.has(key)) return this.results.get(key)!;
    const result = compute();
    this.results.set(key, result);
    if (this.results.size > this.capacity) this.results.delete(this.results.keys().next().value!);
    return result;
  }
}

import { RecentResults } from "../../../src/platform/recent-results";

describe("RecentResults", () => {
  test("computes a key once while it is kept, and again after it has been pushed out", () => {
    const recent = new RecentResults<number>(2);
    let computed = 0;
    const square = (n: number) => () => {
      computed += 1;
      return n * n;
    };
    expect(recent.get("3", square(3))).toBe(9);
    expect(recent.get("3", square(3))).toBe(9);
    expect(computed).toBe(1);
    recent.get("4", square(4));
    recent.get("5", square(5));
    // Capacity 2: "3", the oldest, went when "5" came.
    expect(recent.get("3", square(3))).toBe(9);
    expect(computed).toBe(4);
    expect(recent.get("5", square(5))).toBe(25);
    expect(computed).toBe(4);
  });

  test("a computation that throws is not kept", () => {
    const recent = new RecentResults<string>(4);
    expect(() =>
      recent.get("bad", () => {
        throw new Error("no");
      }),
    ).toThrow("no");
    expect(recent.get("bad", () => "fine")).toBe("fine");
  });
});

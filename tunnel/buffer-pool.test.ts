import { expect, test } from "bun:test";
import { BufferPool } from "./buffer-pool.ts";

test("a buffer given back is handed out again; none is handed out twice while taken", () => {
  const pool = new BufferPool(4, 1024);
  const a = pool.take(1000);
  const b = pool.take(1024);
  expect(a.byteLength).toBe(1024);
  expect(a).not.toBe(b);
  pool.give(a);
  expect(pool.size).toBe(1);
  const c = pool.take(10);
  expect(c).toBe(a);
  // b is still taken: it never comes out of the pool until given back.
  const d = pool.take(10);
  expect(d).not.toBe(b);
  expect(d).not.toBe(c);
});

test("the pool keeps at most maxBuffers; the rest are left to the collector", () => {
  const pool = new BufferPool(3, 64);
  const taken = Array.from({ length: 10 }, () => pool.take(64));
  for (const buffer of taken) pool.give(buffer);
  expect(pool.size).toBe(3);
});

test("a request bigger than the pool's size gets a one-off buffer that is never kept", () => {
  const pool = new BufferPool(3, 64);
  const big = pool.take(65);
  expect(big.byteLength).toBe(65);
  pool.give(big);
  pool.give(new ArrayBuffer(32));
  expect(pool.size).toBe(0);
});

import { expect, test } from "bun:test";
import { ByteQueue } from "./byte-queue.ts";

test("ByteQueue hands out at most N bytes in order, coalescing small chunks and splitting big ones", () => {
  const q = new ByteQueue();
  q.push(Uint8Array.of(1, 2, 3));
  q.push(Uint8Array.of(4));
  q.push(new Uint8Array(0));
  q.push(Uint8Array.of(5, 6, 7, 8, 9));
  expect(q.length).toBe(9);
  expect([...q.take(5)]).toEqual([1, 2, 3, 4, 5]);
  expect([...q.take(2)]).toEqual([6, 7]);
  expect([...q.take(10)]).toEqual([8, 9]);
  expect(q.length).toBe(0);
  expect(q.take(4).length).toBe(0);
});

test("ByteQueue keeps every byte across many pushes and takes", () => {
  const q = new ByteQueue();
  const input: number[] = [];
  let n = 0;
  for (let i = 0; i < 3000; i++) {
    const chunk = new Uint8Array((i * 7) % 50);
    for (let j = 0; j < chunk.length; j++) chunk[j] = n++ & 0xff;
    input.push(...chunk);
    q.push(chunk);
  }
  const output: number[] = [];
  while (q.length > 0) output.push(...q.take(37));
  expect(output).toEqual(input);
});

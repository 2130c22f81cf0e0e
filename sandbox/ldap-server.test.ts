import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import {
  decodeLdapMessage,
  encodeBindRequest,
  encodeTlv,
  RESULT_INVALID_CREDENTIALS,
  RESULT_SUCCESS,
  readChildren,
  readInteger,
  readTlv,
  TAG_SEQUENCE,
  TAG_UNBIND_REQUEST,
} from "./ldap-ber.ts";
import { type LdapVerifier, startLdapVerifier } from "./ldap-server.ts";

let server: LdapVerifier;
const seen: Array<[string, string]> = [];
const logs: string[] = [];

beforeAll(async () => {
  server = await startLdapVerifier({
    log: (line) => logs.push(line),
    verify: async (dn, password) => {
      seen.push([dn, password]);
      return password === "x".repeat(1450) ? { ok: true } : { ok: false, reason: "wrong" };
    },
  });
});
afterAll(() => server.stop());

/** Sends bytes (optionally in small pieces, like a slow network) and returns the resultCode of each reply. */
async function exchange(chunks: Uint8Array[]): Promise<number[]> {
  const socket = connect({ host: "127.0.0.1", port: server.port });
  const replies: number[] = [];
  let buf = new Uint8Array(0);
  const done = new Promise<void>((resolve) => {
    socket.on("data", (data: Buffer) => {
      buf = Uint8Array.from([...buf, ...data]);
      for (let tlv = readTlv(buf); tlv; tlv = readTlv(buf)) {
        buf = buf.slice(tlv.size);
        const [, op] = readChildren(tlv.value);
        const [code] = readChildren(op?.value ?? new Uint8Array(0));
        replies.push(readInteger(code?.value ?? Uint8Array.of(255)));
      }
    });
    socket.on("close", () => resolve());
  });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  for (const chunk of chunks) {
    socket.write(chunk);
    await Bun.sleep(5);
  }
  await Bun.sleep(50);
  socket.end();
  await done;
  return replies;
}

test("a bind with a 1450-char password, split across TCP segments, reaches the verifier intact", async () => {
  const request = encodeBindRequest(1, "cn=alice,dc=rds-iam", "x".repeat(1450));
  const pieces = [request.slice(0, 3), request.slice(3, 700), request.slice(700)];
  expect(await exchange(pieces)).toEqual([RESULT_SUCCESS]);
  expect(seen.at(-1)).toEqual(["cn=alice,dc=rds-iam", "x".repeat(1450)]);
});

test("a refused bind answers invalidCredentials and logs the reason without the password", async () => {
  expect(await exchange([encodeBindRequest(7, "cn=bob,dc=rds-iam", "secret-token")])).toEqual([
    RESULT_INVALID_CREDENTIALS,
  ]);
  expect(logs.at(-1)).toContain("wrong");
  expect(logs.join("\n")).not.toContain("secret-token");
});

test("unbind closes the connection; the message codec round-trips", async () => {
  const unbind = encodeTlv(TAG_SEQUENCE, Uint8Array.from([2, 1, 9, TAG_UNBIND_REQUEST, 0]));
  expect(await exchange([unbind])).toEqual([]);
  const tlv = readTlv(encodeBindRequest(300, "cn=a,dc=rds-iam", "p"));
  expect(tlv && decodeLdapMessage(tlv)).toEqual({
    kind: "bind",
    messageId: 300,
    version: 3,
    dn: "cn=a,dc=rds-iam",
    password: "p",
  });
});

test("garbage drops the connection without killing the server", async () => {
  expect(await exchange([Uint8Array.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])])).toEqual([]);
  expect(await exchange([encodeBindRequest(2, "cn=alice,dc=rds-iam", "x".repeat(1450))])).toEqual([
    RESULT_SUCCESS,
  ]);
});

import { describe, expect, test } from "bun:test";
import { DecodeError } from "./codec.ts";
import { answerHandshake, parseHandshakeComplete, parseHandshakeRequest } from "./handshake.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

const portRequest = {
  AgentVersion: "3.3.987.0",
  RequestedClientActions: [
    {
      ActionType: "SessionType",
      ActionParameters: {
        SessionType: "Port",
        Properties: {
          type: "LocalPortForwarding",
          host: "db.internal",
          portNumber: "5432",
          localPortNumber: "0",
        },
      },
    },
  ],
};

describe("handshake", () => {
  test("TV-5: the Port answer is byte-identical to the plugin's marshaller output", () => {
    const answer = answerHandshake(parseHandshakeRequest(enc(portRequest)));
    expect(dec(answer.payload)).toBe(
      '{"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}',
    );
    expect(answer.errors).toEqual([]);
    expect(answer.sessionType).toBe("Port");
    expect(answer.properties).toEqual({
      type: "LocalPortForwarding",
      host: "db.internal",
      portNumber: "5432",
      localPortNumber: "0",
    });
  });

  test("KMSEncryption and unknown actions are answered Unsupported (3), in request order", () => {
    const request = parseHandshakeRequest(
      enc({
        AgentVersion: "3.3.987.0",
        RequestedClientActions: [
          { ActionType: "KMSEncryption", ActionParameters: { KMSKeyId: "k", Challenge: "c" } },
          ...portRequest.RequestedClientActions,
          { ActionType: "FutureThing" },
        ],
      }),
    );
    const body = JSON.parse(dec(answerHandshake(request).payload));
    expect(body.ProcessedClientActions.map((a: { ActionStatus: number }) => a.ActionStatus)).toEqual([
      3, 1, 3,
    ]);
    expect(body.ProcessedClientActions[0].ActionType).toBe("KMSEncryption");
    expect(body.ProcessedClientActions[2].ActionType).toBe("FutureThing");
  });

  test("a shell session type fails with a reason; a request without SessionType is an error", () => {
    const shell = answerHandshake(
      parseHandshakeRequest(
        enc({
          AgentVersion: "3.3.987.0",
          RequestedClientActions: [
            { ActionType: "SessionType", ActionParameters: { SessionType: "Standard_Stream" } },
          ],
        }),
      ),
    );
    expect(JSON.parse(dec(shell.payload)).ProcessedClientActions[0].ActionStatus).toBe(2);
    expect(shell.errors[0]).toContain("port forwarding only");
    const none = answerHandshake(parseHandshakeRequest(enc({ AgentVersion: "3.3.987.0" })));
    expect(none.errors).toHaveLength(1);
  });

  test("garbage is a DecodeError, never another exception", () => {
    expect(() => parseHandshakeRequest(new Uint8Array([0xff, 0x00]))).toThrow(DecodeError);
    expect(() => parseHandshakeRequest(enc([1, 2]))).toThrow(DecodeError);
    expect(() => parseHandshakeRequest(enc({ RequestedClientActions: "x" }))).toThrow(DecodeError);
    expect(parseHandshakeRequest(enc({ RequestedClientActions: [null, 3] })).actions).toHaveLength(2);
  });

  test("HandshakeComplete fields are read with defaults", () => {
    expect(
      parseHandshakeComplete(enc({ HandshakeTimeToComplete: 1500000, CustomerMessage: "hello" })),
    ).toEqual({
      handshakeTimeToCompleteNs: 1500000,
      customerMessage: "hello",
    });
    expect(parseHandshakeComplete(enc({}))).toEqual({ handshakeTimeToCompleteNs: 0, customerMessage: "" });
  });
});

/**
 * AWS error responses in the shape each protocol's SDK parser expects, so SDK clients pointed at the
 * gateway see the same error codes as against AWS: JSON services read `__type`/`x-amzn-ErrorType`,
 * query services (STS, IAM, RDS) `<ErrorResponse><Error><Code>`, EC2 `<Response><Errors><Error><Code>`,
 * S3 `<Error><Code>`.
 */
import { randomUUID } from "node:crypto";

export type AwsProtocol = "json" | "query" | "ec2" | "rest-xml";

/** Which error shape a request expects, from its headers and the SigV4 scope's service name. */
export function detectProtocol(req: Request, service: string | undefined): AwsProtocol {
  const contentType = req.headers.get("content-type") ?? "";
  if (req.headers.has("x-amz-target") || contentType.includes("json")) return "json";
  if (service === "ec2") return "ec2";
  if (service === "s3") return "rest-xml";
  if (contentType.includes("x-www-form-urlencoded") || new URL(req.url).searchParams.has("Action"))
    return "query";
  return service ? "query" : "json";
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function awsError(protocol: AwsProtocol, status: number, code: string, message: string): Response {
  const requestId = randomUUID();
  if (protocol === "json") {
    return new Response(JSON.stringify({ __type: code, message }), {
      status,
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-errortype": code,
        "x-amzn-requestid": requestId,
      },
    });
  }
  const c = xmlEscape(code);
  const m = xmlEscape(message);
  const body =
    protocol === "ec2"
      ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${c}</Code><Message>${m}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
      : protocol === "rest-xml"
        ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${c}</Code><Message>${m}</Message><RequestId>${requestId}</RequestId></Error>`
        : `<ErrorResponse><Error><Type>Sender</Type><Code>${c}</Code><Message>${m}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return new Response(body, {
    status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
  });
}

/** An AWS JSON 1.1 success response (SSM). */
export function jsonOk(value: unknown): Response {
  return new Response(JSON.stringify(value), {
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() },
  });
}

/** Thrown by API handlers; turned into an AWS JSON error by the gateway. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * Forwards an AWS call the gateway does not answer itself to moto unchanged — method, path, query,
 * headers, body — and streams moto's answer back with its status and headers (Content-Type included),
 * except where `moto-compat.ts` corrects a moto deviation in the request or the answer.
 */

import { responseRewrite, rewriteRequestBody } from "./moto-compat.ts";

/** Hop-by-hop headers that belong to one connection, not to the request. */
const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te"];

export async function proxyToMoto(
  req: Request,
  url: URL,
  motoUrl: string,
  originalBody: ArrayBuffer | undefined,
  service = "",
): Promise<Response> {
  const body = rewriteRequestBody(service, originalBody, req.headers.get("x-amz-target"));
  const headers = new Headers(req.headers);
  // A rewritten body has another length; let fetch compute it.
  if (body !== originalBody) headers.delete("content-length");
  for (const name of HOP_BY_HOP) headers.delete(name);
  // An uncompressed answer can be streamed through without re-encoding.
  headers.delete("accept-encoding");
  const upstream = await fetch(`${motoUrl}${url.pathname}${url.search}`, {
    method: req.method,
    headers,
    body: body && body.byteLength > 0 ? body : undefined,
    redirect: "manual",
  });
  const responseHeaders = new Headers(upstream.headers);
  for (const name of HOP_BY_HOP) responseHeaders.delete(name);
  responseHeaders.delete("content-encoding");
  const rewrite = upstream.ok
    ? responseRewrite(service, req.headers.get("x-amz-target"), originalBody)
    : undefined;
  if (rewrite) {
    responseHeaders.delete("content-length");
    const text = rewrite(await upstream.text());
    return new Response(text, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: responseHeaders,
    });
  }
  return new Response(req.method === "HEAD" ? null : upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}
